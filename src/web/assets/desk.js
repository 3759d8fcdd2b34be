// Progressive enhancements; every page works without this file.
for (const area of document.querySelectorAll("textarea[data-count]")) {
  const out = document.getElementById(area.dataset.count);
  const max = Number(area.getAttribute("maxlength") || area.dataset.max || 0);
  const update = () => {
    const n = [...area.value].length;
    out.textContent = max ? `${n} / ${max}` : String(n);
    out.classList.toggle("over", max > 0 && n > max);
  };
  area.addEventListener("input", update);
  update();
}
for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = label), 1500);
    } catch {
      window.prompt("Copy this:", button.dataset.copy);
    }
  });
}
for (const select of document.querySelectorAll("select[data-local-zone]")) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
}
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
// The Follow and Share boxes remember the reader's server (in this browser only).
for (const form of document.querySelectorAll("form[data-remember-server]")) {
  const input = form.querySelector("input[name=server]");
  try {
    if (input && !input.value) input.value = localStorage.getItem("lectern-server") ?? "";
    form.addEventListener("submit", () => localStorage.setItem("lectern-server", input.value.trim()));
  } catch {
    // Storage refused (private mode): nothing remembered.
  }
}
