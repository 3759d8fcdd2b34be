// Progressive enhancements; every page works without this file.
for (const area of document.querySelectorAll("textarea[data-count]")) {
  const out = document.getElementById(area.dataset.count);
  let max = Number(area.getAttribute("maxlength") || area.dataset.max || 0);
  // A title makes the post a statement, which may be longer.
  const title = document.querySelector(`[data-statement-title="${area.id}"]`);
  title?.addEventListener("input", () => {
    max = Number(title.value.trim() ? area.dataset.maxStatement : area.dataset.maxPost);
    area.setAttribute("maxlength", String(max));
    update();
  });
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

// The compose box, enhanced (it works without this): one control for pictures and video (choose, drop
// or paste) with a thumbnail per file, upload progress, Ctrl/Cmd+Enter to publish, a question before
// publishing a picture without a description, a draft kept in this browser, a warning before leaving.
const compose = document.getElementById("compose");
if (compose) {
  const text = compose.querySelector("#text");
  const slots = [...compose.querySelectorAll(".slot")];
  const empty = slots.filter((s) => s.querySelector("input[type=file]"));
  const media = compose.querySelector("#media");
  let submitting = false;
  let dirty = false;

  // Attachments already uploaded, in their order: the arrows move a slot in place (the form posts them in
  // the order they stand), keyboard focus stays on the arrow, a live region says where it went; or drag one.
  const kept = () => [...compose.querySelectorAll(".slot[data-kept]")];
  const status = compose.querySelector("[data-order-status]");
  const renumber = () => {
    const all = kept();
    all.forEach((slot, i) => {
      const position = slot.querySelector("[data-position]");
      if (position) position.textContent = String(i + 1);
      const up = slot.querySelector("button[data-move=up]");
      const down = slot.querySelector("button[data-move=down]");
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === all.length - 1;
    });
  };
  const moved = (slot, button) => {
    renumber();
    dirty = true;
    const all = kept();
    if (status) status.textContent = `Moved to position ${all.indexOf(slot) + 1} of ${all.length}.`;
    const target = button?.disabled ? slot.querySelector("button[data-move]:not(:disabled)") : button;
    target?.focus();
  };
  compose.addEventListener("click", (e) => {
    const button = e.target.closest?.("button[data-move]");
    if (!button) return;
    e.preventDefault();
    const slot = button.closest(".slot");
    const all = kept();
    const i = all.indexOf(slot);
    if (button.dataset.move === "up" && i > 0) all[i - 1].before(slot);
    else if (button.dataset.move === "down" && i < all.length - 1) all[i + 1].after(slot);
    moved(slot, button);
  });
  let dragged = null;
  for (const slot of kept()) {
    if (kept().length < 2) break;
    slot.draggable = true;
    // The slot moves, not its thumbnail (an image would start a drag of its own).
    for (const img of slot.querySelectorAll("img")) img.draggable = false;
    slot.addEventListener("dragstart", (e) => {
      dragged = slot;
      slot.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", "");
    });
    slot.addEventListener("dragend", () => {
      slot.classList.remove("dragging");
      for (const s of kept()) s.classList.remove("drop-before", "drop-after");
      dragged = null;
    });
    slot.addEventListener("dragover", (e) => {
      if (!dragged || dragged === slot) return;
      e.preventDefault();
      const box = slot.getBoundingClientRect();
      const after = e.clientY > box.top + box.height / 2;
      slot.classList.toggle("drop-after", after);
      slot.classList.toggle("drop-before", !after);
    });
    slot.addEventListener("dragleave", () => slot.classList.remove("drop-before", "drop-after"));
    slot.addEventListener("drop", (e) => {
      if (!dragged || dragged === slot) return;
      e.preventDefault();
      e.stopPropagation();
      const after = slot.classList.contains("drop-after");
      slot.classList.remove("drop-before", "drop-after");
      if (after) slot.after(dragged);
      else slot.before(dragged);
      moved(dragged, null);
    });
  }

  // One "Add" control in place of the empty slots: each file goes to the next free slot's input.
  if (media && empty.length > 0) {
    const picker = document.createElement("input");
    picker.type = "file";
    picker.multiple = true;
    picker.accept = empty[0].querySelector("input[type=file]").accept;
    picker.id = "add-media";
    picker.className = "sr";
    const label = document.createElement("label");
    label.htmlFor = "add-media";
    label.className = "button add-media";
    label.textContent = "Add pictures or video (or drop, or paste)";
    media.insertBefore(label, empty[0]);
    media.insertBefore(picker, label);
    for (const slot of empty) slot.hidden = true;
    const add = (files) => {
      for (const file of files) {
        if (!/^(image|video)\//.test(file.type)) continue;
        const slot = empty.find((s) => s.hidden);
        if (!slot) break;
        const input = slot.querySelector("input[type=file]");
        const dt = new DataTransfer();
        dt.items.add(file);
        input.files = dt.files;
        const shown = slot.firstElementChild;
        const thumb = document.createElement(file.type.startsWith("image/") ? "img" : "video");
        thumb.src = URL.createObjectURL(file);
        thumb.alt = "";
        thumb.className = "thumb";
        thumb.title = "Click where the picture should stay in view when cropped (the focal point)";
        shown.replaceChildren(thumb);
        // The focal point, by clicking the thumbnail: x and y from -1 to 1, y upwards (as Mastodon reads it).
        const focus = slot.querySelector("input[data-focus]");
        thumb.addEventListener("click", (e) => {
          const box = thumb.getBoundingClientRect();
          const x = ((e.clientX - box.left) / box.width) * 2 - 1;
          const y = 1 - ((e.clientY - box.top) / box.height) * 2;
          if (focus) focus.value = `${x.toFixed(2)},${y.toFixed(2)}`;
          shown.style.setProperty("--fx", `${((x + 1) / 2) * 100}%`);
          shown.style.setProperty("--fy", `${((1 - y) / 2) * 100}%`);
          shown.classList.add("focused");
        });
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Remove";
        remove.addEventListener("click", () => {
          input.value = "";
          shown.replaceChildren();
          remove.remove();
          slot.hidden = true;
          label.hidden = false;
        });
        slot.lastElementChild.append(remove);
        slot.hidden = false;
        dirty = true;
      }
      label.hidden = !empty.some((s) => s.hidden);
    };
    picker.addEventListener("change", () => {
      add(picker.files);
      picker.value = "";
    });
    compose.addEventListener("dragover", (e) => {
      if ([...(e.dataTransfer?.types ?? [])].includes("Files")) {
        e.preventDefault();
        compose.classList.add("dropping");
      }
    });
    compose.addEventListener("dragleave", () => compose.classList.remove("dropping"));
    compose.addEventListener("drop", (e) => {
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      compose.classList.remove("dropping");
      add(e.dataTransfer.files);
    });
    compose.addEventListener("paste", (e) => {
      const files = e.clipboardData?.files;
      if (files?.length) {
        e.preventDefault();
        add(files);
      }
    });
  }

  // Enter in a statement's title goes on to its text (it would otherwise publish the form).
  compose.querySelector("#title")?.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      text?.focus();
    }
  });

  // Ctrl/Cmd+Enter publishes.
  compose.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      compose.querySelector("button[value=publish]").click();
    }
  });

  // The draft: kept on the server for this account as it is typed (a second after the last key).
  const draftUrl = text?.dataset.draft;
  const csrf = compose.querySelector("input[name=_csrf]")?.value;
  let timer;
  const saveDraft = () =>
    fetch(draftUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text.value, summary: compose.querySelector("#summary")?.value ?? "" }),
      keepalive: true,
    }).catch(() => {});
  for (const field of [text, compose.querySelector("#summary")]) {
    field?.addEventListener("input", () => {
      dirty = true;
      if (!draftUrl) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        saveDraft();
        dirty = false;
      }, 1000);
    });
  }
  window.addEventListener("beforeunload", (e) => {
    if (dirty && !submitting && text.value.trim() !== "") e.preventDefault();
  });

  compose.addEventListener("submit", (e) => {
    const action = e.submitter?.value ?? "publish";
    // A picture without a description: ask once.
    if (action === "publish") {
      const bare = slots.find((s) => {
        if (s.hidden) return false;
        const hasFile = s.querySelector("input[type=file]")?.files?.length || s.querySelector("input[name=media]");
        const alt = s.querySelector("textarea[data-alt]");
        return hasFile && alt && alt.value.trim() === "";
      });
      if (
        bare &&
        !window.confirm("A picture has no description for people who cannot see it. Publish without a description?")
      ) {
        e.preventDefault();
        bare.querySelector("textarea[data-alt]").focus();
        return;
      }
    }
    submitting = true;
    clearTimeout(timer); // the server forgets the draft once the post is published
    // With files, send it here to show the upload's progress, then show what the server answered.
    const files = [...compose.querySelectorAll("input[type=file]")].some((i) => i.files?.length);
    if (!files) return;
    e.preventDefault();
    const data = new FormData(compose);
    data.set("action", action);
    const progress = document.getElementById("upload-progress");
    progress.hidden = false;
    // (compose.action would name the buttons called "action": the attribute is read instead.)
    const target = new URL(compose.getAttribute("action"), location.href).href;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", target);
    xhr.upload.addEventListener("progress", (p) => {
      if (p.lengthComputable) progress.value = Math.round((p.loaded / p.total) * 100);
    });
    xhr.addEventListener("load", () => {
      progress.value = 100;
      if (xhr.responseURL && xhr.responseURL !== target) {
        location.assign(xhr.responseURL);
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", () => {
      submitting = false;
      progress.hidden = true;
      window.alert("The upload did not get through. Check the connection and try again.");
    });
    xhr.send(data);
  });
}

// Posts in their undo window: "sending in 0:42", counted down; the page reloads once they are out.
const held = document.querySelectorAll("[data-send-at]");
if (held.length > 0) {
  const tick = () => {
    let due = false;
    for (const el of held) {
      const left = Math.ceil((Number(el.dataset.sendAt) - Date.now()) / 1000);
      if (left <= 0) due = true;
      el.textContent =
        left > 0 ? `— sending in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : "— sending now";
    }
    if (due) setTimeout(() => location.reload(), 2500);
    else setTimeout(tick, 1000);
  };
  tick();
}
