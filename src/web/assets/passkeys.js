// Passkeys (WebAuthn) in the desk, with SimpleWebAuthn's browser library (webauthn.js).
// Buttons name the two steps: data-options (get the ceremony's options) and data-finish (send the answer).
const { startAuthentication, startRegistration, browserSupportsWebAuthn } = window.SimpleWebAuthnBrowser;

for (const button of document.querySelectorAll("button[data-passkey]")) {
  const status = document.getElementById(button.dataset.status);
  if (!browserSupportsWebAuthn()) {
    if (status) status.textContent = "This browser cannot use passkeys.";
    continue;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    const post = (url, body) =>
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": button.dataset.csrf },
        body: JSON.stringify(body),
      });
    button.disabled = true;
    try {
      const current = document.getElementById(button.dataset.password ?? "")?.value;
      const asked = await post(button.dataset.options, current === undefined ? {} : { current });
      const options = await asked.json();
      if (!asked.ok) throw new Error(options.error ?? "refused");
      const answer =
        button.dataset.passkey === "register"
          ? await startRegistration({ optionsJSON: options })
          : await startAuthentication({ optionsJSON: options });
      const name = document.getElementById(button.dataset.name ?? "")?.value ?? "";
      const res = await post(button.dataset.finish, { response: answer, name });
      const result = await res.json();
      if (result.redirect) window.location.assign(result.redirect);
      else if (status) status.textContent = result.error ?? "That did not work.";
    } catch (e) {
      if (status) status.textContent = `That did not work: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  });
}
