// The journal editor: autosave, the preview, attachments and recording.
//
// Nothing typed is lost. The text is kept in localStorage as it is typed, under the entry
// and this tab, until the server has acknowledged it. Each save carries the version the
// text was written on and an idempotency key: a new key for each distinct draft, the same
// key when the same draft is sent again (after a dropped connection or a reload), so a
// retry never makes a second revision, and the first entry is created with a key kept in
// sessionStorage so that a reload never makes a second entry. A save whose outcome is
// unknown is sent again, unchanged, before anything newer. A save refused because the
// entry was saved elsewhere (409) shows both texts side by side and waits for a choice.

import { recorderSupported, setupRecorder } from "/static/recorder.js";

const form = document.getElementById("entry-form");
if (form) {
  startEditor(form);
}

function startEditor(form) {
  const $ = (id) => document.getElementById(id);
  const csrf = form.elements.csrf.value;
  const titleEl = $("entry-title");
  const bodyEl = $("entry-body");
  const stateBox = $("save-state-box");
  const stateText = $("save-state");
  const stateAge = $("save-age");
  const conflictBox = $("conflict");

  let entryId = form.dataset.entryId || "";
  let version = Number(form.dataset.version || 0);
  // lastSent is the form's draft as last acknowledged by the server.
  let lastSent = readDraft();
  // attempt is the save being sent, or sent with an unknown outcome: {key, draft, base}.
  let attempt = null;
  let inflight = null;
  let again = false;
  let serverCopy = null; // the other copy, while a conflict waits for a choice
  let typingTimer = 0;
  let retryTimer = 0;
  let retryDelay = 1000;
  let savedAt = 0;
  let stateKind = "";

  // Storage that fails (private modes, quota) must not stop the editor.
  const store = (area) => ({
    get(k) {
      try {
        return area.getItem(k);
      } catch {
        return null;
      }
    },
    set(k, v) {
      try {
        area.setItem(k, v);
      } catch {
        // The text stays in the page; only a reload would lose it.
      }
    },
    remove(k) {
      try {
        area.removeItem(k);
      } catch {
        // Nothing to do.
      }
    },
  });
  const local = store(window.localStorage);
  const session = store(window.sessionStorage);

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "k-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  const tab = session.get("polyphony.journal.tab") || newKey();
  session.set("polyphony.journal.tab", tab);
  const createName = "polyphony.journal.create";
  let createKey = "";
  if (!entryId) {
    createKey = session.get(createName) || newKey();
    session.set(createName, createKey);
  }
  const recordKey = () => "polyphony.journal.draft:" + (entryId || "new-" + createKey) + ":" + tab;

  function readDraft() {
    const links = [];
    const page = form.elements.linkPage.value;
    const sess = form.elements.linkSession.value;
    if (page) links.push({ kind: "page", target: page });
    if (sess) links.push({ kind: "session", target: sess });
    for (const el of form.querySelectorAll("input[name=links]")) {
      const i = el.value.indexOf(":");
      links.push({ kind: el.value.slice(0, i), target: el.value.slice(i + 1) });
    }
    return {
      title: titleEl.value,
      body: bodyEl.value.replace(/\r\n/g, "\n"),
      tags: [...form.querySelectorAll("input[name=tags]:checked")].map((el) => el.value),
      links,
    };
  }

  function chooseOption(select, value, label) {
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.add(new Option(label || value, value));
    }
    select.value = value;
  }

  function writeDraft(d) {
    titleEl.value = d.title || "";
    bodyEl.value = d.body || "";
    const tags = new Set(d.tags || []);
    for (const el of form.querySelectorAll("input[name=tags]")) el.checked = tags.has(el.value);
    for (const el of form.querySelectorAll("input[name=links]")) el.remove();
    let page = "";
    let sess = "";
    for (const l of d.links || []) {
      if (l.kind === "page" && !page) page = l.target;
      else if (l.kind === "session" && !sess) sess = l.target;
      else {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "links";
        hidden.value = l.kind + ":" + l.target;
        form.append(hidden);
      }
    }
    chooseOption(form.elements.linkPage, page);
    chooseOption(form.elements.linkSession, sess);
    refreshPreview();
  }

  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const blank = (d) => !d.title.trim() && !d.body.trim() && !d.tags.length && !d.links.length;

  // The state line: what has happened to the text, and how long ago it was saved.
  function show(kind, text) {
    stateBox.hidden = false;
    stateBox.className = "save-state save-state--" + kind;
    stateKind = kind;
    if (stateText.textContent !== text) stateText.textContent = text;
    tick();
  }
  function tick() {
    if (stateKind !== "saved" || !savedAt) {
      stateAge.textContent = "";
      return;
    }
    const s = Math.max(0, Math.round((Date.now() - savedAt) / 1000));
    stateAge.textContent = s < 1 ? "just now" : s < 60 ? s + " s ago" : s < 3600 ? Math.floor(s / 60) + " min ago" : "over an hour ago";
  }
  setInterval(tick, 1000);

  function persist() {
    local.set(recordKey(), JSON.stringify({ base: version, draft: readDraft(), attempt, at: Date.now() }));
  }
  function settle() {
    if (!attempt && same(readDraft(), lastSent)) local.remove(recordKey());
    else persist();
  }

  function schedule(ms) {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(save, ms);
  }

  // save sends the next save, if there is anything to send: the attempt whose outcome is
  // unknown, or else the form's draft when it differs from what the server has.
  async function save({ force = false, keepalive = false } = {}) {
    clearTimeout(typingTimer);
    if (inflight) {
      again = true;
      return inflight;
    }
    if (serverCopy) return;
    if (!attempt) {
      const draft = readDraft();
      if (entryId && !force && same(draft, lastSent)) {
        settle();
        return;
      }
      if (!entryId && !force && blank(draft)) return;
      attempt = { key: entryId ? newKey() : createKey, draft, base: version };
    }
    persist();
    inflight = send(attempt, keepalive).finally(() => {
      inflight = null;
      if (again) {
        again = false;
        schedule(300);
      }
    });
    return inflight;
  }

  async function send(a, keepalive) {
    clearTimeout(retryTimer);
    show("saving", "Saving…");
    const creating = !entryId;
    const payload = JSON.stringify(creating ? a.draft : { baseVersion: a.base, ...a.draft });
    let res;
    try {
      res = await fetch(creating ? "/api/v1/journal/entries" : "/api/v1/journal/entries/" + encodeURIComponent(entryId), {
        method: creating ? "POST" : "PUT",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrf,
          "Idempotency-Key": a.key,
        },
        body: payload,
        credentials: "same-origin",
        keepalive: keepalive && payload.length < 60000,
      });
    } catch {
      offline();
      return;
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      // A cut-off answer: the outcome is unknown, so the same save goes again.
      if (res.ok) {
        offline();
        return;
      }
    }
    if (res.ok && body) {
      acknowledged(a, body);
      return;
    }
    if (res.status === 409 && body && body.server) {
      attempt = null;
      persist();
      showConflict(body.server);
      return;
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      offline("Not saved yet: the server could not save just now. Your text is kept here, and saving is tried again.");
      return;
    }
    if (res.status === 401 || res.status === 403) {
      // Not processed: the same save goes when the person is back.
      show("error", "Not saved: you are signed out, or this page has expired. Your text is kept here: sign in again in another tab, then come back to this one and it will be saved.");
      return;
    }
    // Refused (400, 404): nothing was stored. Typing again tries again.
    attempt = null;
    persist();
    const why = body && body.error ? body.error : "the server refused it (" + res.status + ")";
    show("error", "Not saved: " + why + ". Your text is kept here.");
  }

  function offline(text) {
    show("offline", text || "Offline — your text is kept here and will be saved when the connection is back.");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => save(), retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function acknowledged(a, entry) {
    if (!entryId) {
      const oldKey = recordKey();
      entryId = entry.id;
      local.remove(oldKey);
      session.remove(createName);
      form.dataset.entryId = entryId;
      form.action = "/journal/" + entryId;
      history.replaceState(null, "", "/journal/" + entryId + "/edit");
      const back = $("leave-editor");
      if (back) {
        back.href = "/journal/" + entryId;
        back.textContent = "Back to the entry";
      }
    }
    version = entry.version;
    form.elements.baseVersion.value = String(version);
    form.dataset.version = String(version);
    lastSent = a.draft;
    attempt = null;
    retryDelay = 1000;
    savedAt = Date.now();
    show("saved", "Saved");
    settle();
    if (!same(readDraft(), lastSent)) schedule(300);
  }

  // The conflict: both texts side by side until the author chooses.
  function showConflict(server) {
    serverCopy = server;
    const mine = readDraft();
    const label = (id) => {
      const el = form.querySelector('label[for="tag-' + CSS.escape(id) + '"]');
      return el ? el.textContent.trim() : id;
    };
    $("conflict-text").textContent =
      "Version " + server.version + " of this entry was saved in another window or on another device while you were writing. " +
      "Nothing has been overwritten. Your text and the saved copy are side by side: keep yours (it is saved on top of the other, which stays in the history), or use the saved copy instead.";
    $("conflict-mine-title").textContent = mine.title || "(no title)";
    $("conflict-mine").value = mine.body;
    $("conflict-server-title").textContent = server.title || "(no title)";
    $("conflict-server").value = server.body;
    $("conflict-version").textContent = "version " + server.version;
    $("conflict-server-tags").textContent = server.tags && server.tags.length ? "Tags: " + server.tags.map(label).join(", ") : "";
    conflictBox.hidden = false;
    show("error", "Not saved: this entry was saved somewhere else. Choose which text to keep.");
    const heading = $("conflict-heading");
    heading.tabIndex = -1;
    heading.focus();
  }

  function keepMine() {
    if (!serverCopy) return;
    version = serverCopy.version;
    serverCopy = null;
    conflictBox.hidden = true;
    attempt = null;
    save({ force: true });
    bodyEl.focus();
  }

  function useServers() {
    if (!serverCopy) return;
    const s = serverCopy;
    serverCopy = null;
    conflictBox.hidden = true;
    writeDraft({ title: s.title, body: s.body, tags: s.tags, links: s.links });
    version = s.version;
    form.elements.baseVersion.value = String(version);
    lastSent = readDraft();
    attempt = null;
    local.remove(recordKey());
    savedAt = Date.parse(s.updatedAt) || Date.now();
    show("saved", "Saved");
    bodyEl.focus();
  }

  $("keep-mine").addEventListener("click", (e) => {
    e.preventDefault();
    keepMine();
  });
  $("use-server").addEventListener("click", (e) => {
    e.preventDefault();
    useServers();
  });

  // saveAll waits until what is typed is saved; false when it could not be.
  async function saveAll(force) {
    for (let i = 0; i < 5; i++) {
      while (inflight) await inflight;
      if (serverCopy) return false;
      if (entryId && !attempt && same(readDraft(), lastSent)) return true;
      await save({ force: force && !entryId });
      if (attempt || serverCopy) return false;
    }
    return !!entryId && !attempt && same(readDraft(), lastSent);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (e.submitter && e.submitter.id === "keep-mine") {
      keepMine();
      return;
    }
    if (await saveAll(true)) {
      location.assign("/journal/" + entryId);
    }
  });

  form.addEventListener("input", () => {
    persist();
    schedule(1500);
  });
  form.addEventListener("change", () => {
    persist();
    schedule(1500);
  });
  form.addEventListener("focusout", () => save());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      persist();
      save({ keepalive: true });
    } else if (attempt || stateKind === "error") {
      save();
    }
  });
  window.addEventListener("pagehide", persist);
  window.addEventListener("online", () => {
    retryDelay = 1000;
    save();
  });

  // The preview, rendered by the server exactly as the entry will show.
  const preview = $("entry-preview");
  let previewTimer = 0;
  let previewed = null;
  async function refreshPreview() {
    if (bodyEl.value === previewed) return;
    previewed = bodyEl.value;
    try {
      const res = await fetch("/journal/preview", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf },
        body: new URLSearchParams({ body: bodyEl.value }),
      });
      if (res.ok) preview.innerHTML = (await res.text()) || '<p class="nhsuk-body-s">The preview appears here as you type.</p>';
    } catch {
      previewed = null; // offline: the next keystroke tries again
    }
  }
  bodyEl.addEventListener("input", () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 400);
  });

  // Start: bring back text typed here that the server does not have yet.
  const saved = (() => {
    try {
      return JSON.parse(local.get(recordKey()) || "null");
    } catch {
      return null;
    }
  })();
  if (saved && saved.draft) {
    attempt = saved.attempt || null;
    if (!same(saved.draft, lastSent)) {
      writeDraft(saved.draft);
      version = Number(saved.base) || version;
      show("saving", "Restoring text you typed here that was not saved yet…");
    }
    if (attempt || !same(readDraft(), lastSent)) save();
    else local.remove(recordKey());
  } else if (entryId) {
    offerOrphan();
  }
  if (!stateKind) {
    if (entryId) {
      savedAt = Date.parse(form.dataset.updated || "") || 0;
      show("saved", "Saved");
    } else {
      show("idle", "Not saved yet: the entry is saved as you type.");
    }
  }

  startMedia();

  // Text that another tab of this browser kept for this entry and never had saved (the
  // tab was closed, or the browser stopped): offered, not forced, since that tab may still
  // be open and saving it itself.
  function offerOrphan() {
    const prefix = "polyphony.journal.draft:" + entryId + ":";
    let found = null;
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(prefix) || k === recordKey()) continue;
      let rec = null;
      try {
        rec = JSON.parse(local.get(k) || "null");
      } catch {
        rec = null;
      }
      if (!rec || !rec.draft) continue;
      if (!rec.attempt && same(rec.draft, lastSent)) {
        local.remove(k); // the server has it
        continue;
      }
      if (!found || rec.at > found.rec.at) found = { k, rec };
    }
    if (!found) return;
    const box = $("orphan");
    const when = new Date(found.rec.at || Date.now()).toLocaleString("en-GB", { dateStyle: "long", timeStyle: "short" });
    const start = (found.rec.draft.body || "").trim().slice(0, 120);
    $("orphan-text").textContent =
      "Text typed in another window or tab (last changed " + when + ") was not saved" + (start ? ": “" + start + (found.rec.draft.body.length > 120 ? "…" : "") + "”" : "") + ".";
    box.hidden = false;
    $("orphan-restore").addEventListener("click", () => {
      local.remove(found.k);
      box.hidden = true;
      writeDraft(found.rec.draft);
      version = Number(found.rec.base) || version;
      attempt = found.rec.attempt || null;
      persist();
      save();
      bodyEl.focus();
    });
    $("orphan-discard").addEventListener("click", () => {
      local.remove(found.k);
      box.hidden = true;
    });
  }

  // Attachments: upload with progress, remove, record.
  function startMedia() {
    const box = $("media-upload");
    const fileInput = $("media-file");
    const list = $("attachment-list");
    const none = $("no-attachments");
    const errorBox = $("media-error-box");
    const group = $("media-group");
    const progressBox = $("upload-progress-box");
    const progress = $("upload-progress");
    const percent = $("upload-percent");
    const label = $("upload-label");
    box.hidden = false;
    $("media-nojs").hidden = true;

    const sentence = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".") : "");
    function showError(text) {
      errorBox.replaceChildren();
      group.classList.toggle("nhsuk-form-group--error", !!text);
      if (!text) return;
      const span = document.createElement("span");
      span.className = "nhsuk-error-message";
      span.id = "media-error";
      span.textContent = text;
      errorBox.append(span);
    }
    function refusal(status, msg, name) {
      const why = sentence(msg);
      switch (status) {
        case 413:
          return name + " is too large to attach. " + why;
        case 415:
          return name + " cannot be attached: only pictures, audio and video are accepted. " + why;
        case 422:
          return name + " looks damaged or incomplete, so it was not attached. " + why;
        case 400:
        case 411:
          return name + " was not attached. " + why;
        case 401:
        case 403:
          return name + " was not attached: you are signed out, or this page has expired. Reload the page and try again.";
      }
      return name + " was not attached (the server answered " + status + "). " + why + " Try again.";
    }

    function addAttachment(a) {
      const li = document.createElement("li");
      li.className = "attachment";
      li.dataset.key = a.key;
      const name = document.createElement("span");
      name.className = "attachment__name";
      name.textContent = a.name;
      const meta = document.createElement("span");
      meta.className = "attachment__meta";
      meta.textContent = "(" + a.kind + ", " + size(a.size) + ")";
      const f = document.createElement("form");
      f.className = "inline-form attachment__remove";
      f.method = "post";
      f.action = "/journal/" + entryId + "/attachments/remove";
      for (const [n, v] of [
        ["csrf", csrf],
        ["key", a.key],
      ]) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = n;
        input.value = v;
        f.append(input);
      }
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "nhsuk-button nhsuk-button--secondary nhsuk-button--small";
      button.append("Remove");
      const hidden = document.createElement("span");
      hidden.className = "nhsuk-u-visually-hidden";
      hidden.textContent = " " + a.name;
      button.append(hidden);
      f.append(button);
      li.append(name, " ", meta, " ", f);
      list.append(li);
      none.hidden = true;
    }
    function size(n) {
      if (n < 1000) return n + " bytes";
      if (n < 1e6) return Math.round(n / 1000) + " KB";
      if (n % 1e6 === 0) return n / 1e6 + " MB";
      return (n / 1e6).toFixed(1) + " MB";
    }

    async function ensureEntry() {
      if (entryId) return true;
      await saveAll(true);
      if (!entryId) {
        showError("The entry could not be saved yet, so nothing can be attached to it. Try again when it says Saved.");
      }
      return !!entryId;
    }

    // A file over its kind's limit is refused here, before any of it is sent: the server
    // would refuse it too, but only after the browser had started sending it.
    function tooLarge(blob) {
      const kind = (blob.type || "").split("/")[0];
      const max = Number(box.dataset["max" + kind.charAt(0).toUpperCase() + kind.slice(1)]);
      return max > 0 && blob.size > max ? max : 0;
    }

    function upload(blob, name) {
      const max = tooLarge(blob);
      if (max) {
        showError(refusal(413, "the largest file of this kind is " + size(max), name));
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        showError("");
        label.textContent = "Uploading " + name;
        progress.value = 0;
        percent.textContent = "0%";
        progressBox.hidden = false;
        const xhr = new XMLHttpRequest();
        xhr.open("POST", "/api/v1/journal/entries/" + encodeURIComponent(entryId) + "/media?name=" + encodeURIComponent(name));
        xhr.setRequestHeader("X-CSRF-Token", csrf);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("Content-Type", blob.type || "application/octet-stream");
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable) {
            const p = Math.round((100 * e.loaded) / e.total);
            progress.value = p;
            percent.textContent = p + "%";
          }
        };
        xhr.onload = () => {
          progressBox.hidden = true;
          let body = {};
          try {
            body = JSON.parse(xhr.responseText);
          } catch {
            // An answer that is not JSON: the status says enough.
          }
          if (xhr.status === 201 && body.attachment) {
            addAttachment(body.attachment);
            announce("Attached " + name + ".");
          } else {
            showError(refusal(xhr.status, body.error, name));
          }
          resolve();
        };
        xhr.onerror = () => {
          progressBox.hidden = true;
          showError(name + " was not attached: the connection was lost during the upload. Nothing was stored; try again.");
          resolve();
        };
        xhr.send(blob);
      });
    }
    function announce(text) {
      $("media-status").textContent = text;
    }

    fileInput.addEventListener("change", async () => {
      const files = [...fileInput.files];
      if (!files.length || !(await ensureEntry())) return;
      for (const f of files) await upload(f, f.name);
      fileInput.value = "";
    });

    list.addEventListener("submit", async (e) => {
      const f = e.target.closest("form.attachment__remove");
      if (!f) return;
      e.preventDefault();
      const li = f.closest("li");
      const key = f.elements.key.value;
      try {
        const res = await fetch("/api/v1/journal/entries/" + encodeURIComponent(entryId) + "/media?key=" + encodeURIComponent(key), {
          method: "DELETE",
          headers: { Accept: "application/json", "X-CSRF-Token": csrf },
        });
        if (!res.ok) {
          const body = await res.json().catch(() => ({}));
          showError("The attachment was not removed: " + (body.error || res.status) + ".");
          return;
        }
      } catch {
        showError("The attachment was not removed: you seem to be offline. Try again when the connection is back.");
        return;
      }
      const name = li.querySelector(".attachment__name").textContent;
      li.remove();
      none.hidden = list.children.length > 0;
      announce("Removed " + name + " from the entry. Earlier versions in the history still hold it.");
    });

    if (recorderSupported()) {
      $("recorder").hidden = false;
      setupRecorder({
        button: $("record-button"),
        status: $("record-status"),
        onRecorded: async (blob, name) => {
          if (await ensureEntry()) await upload(blob, name);
        },
      });
    }
  }
}
