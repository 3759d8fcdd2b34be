// "Notify me": Web Push for readers without an account. The page carries the
// VAPID public key; the browser's subscription goes to /push/subscriptions.
(() => {
  const box = document.querySelector("[data-notify]");
  if (!box) return;
  const button = box.querySelector("button");
  const status = box.querySelector("[data-notify-status]");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  const ios =
    /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const standalone = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    if (ios && !standalone) {
      box.hidden = false;
      button.hidden = true;
      say(
        "On iPhone and iPad: tap Share, then “Add to Home Screen”, and open this site from there to get notifications.",
      );
    }
    return;
  }
  box.hidden = false;
  const key = box.getAttribute("data-vapid-key");
  const toBytes = (b64) => {
    const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  };
  const send = (method, subscription) =>
    fetch("/push/subscriptions", {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(subscription.toJSON()),
    });
  let current = null;
  const show = () => {
    button.textContent = current ? "Stop notifications" : "Notify me";
    button.setAttribute("aria-pressed", current ? "true" : "false");
  };
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then((reg) => reg.pushManager.getSubscription())
    .then((sub) => {
      current = sub;
      show();
    })
    .catch(() => {});
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const reg = await navigator.serviceWorker.ready;
      if (current) {
        await send("DELETE", current);
        await current.unsubscribe();
        current = null;
        say("Notifications are off.");
      } else {
        if ((await Notification.requestPermission()) !== "granted") {
          say("Notifications are blocked for this site in your browser's settings.");
          return;
        }
        const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: toBytes(key) });
        const res = await send("POST", sub);
        if (!res.ok) {
          await sub.unsubscribe();
          say("Notifications could not be turned on; try again later.");
          return;
        }
        current = sub;
        say("You will be notified of new posts.");
      }
    } catch (e) {
      say(`Notifications could not be turned on (${e.message}).`);
    } finally {
      button.disabled = false;
      show();
    }
  });
})();
