// The marking page: the draft is saved as it is typed, and a turn of the transcript can be
// clicked to cite it.
//
// Nothing typed is lost. The form is kept in localStorage as it is typed, under the
// submission, until the server has acknowledged it. Each save names the version it was
// typed on (If-Match); a save refused because the marking was saved elsewhere since (409)
// keeps this page's text and waits for the marker to choose: keep it (saved over the other)
// or load the other. Without this script the form's buttons save and submit as a form.

const form = document.getElementById("mark-form");
if (form) {
  startMarking(form);
}

function startMarking(form) {
  const $ = (id) => document.getElementById(id);
  const api = form.dataset.api + "/marks/mine";
  const csrf = form.elements.csrf.value;
  const state = $("save-state");
  const conflict = $("conflict");
  const key = "polyphony-mark:" + form.dataset.api;
  let version = Number(form.dataset.version || 0);
  let timer = 0;
  let inflight = false;
  let again = false;
  let other = null; // the version saved elsewhere, while a conflict waits for a choice

  const storage = {
    get() {
      try {
        return JSON.parse(localStorage.getItem(key) || "null");
      } catch {
        return null;
      }
    },
    set(v) {
      try {
        localStorage.setItem(key, JSON.stringify(v));
      } catch {
        // The text stays in the page.
      }
    },
    clear() {
      try {
        localStorage.removeItem(key);
      } catch {
        // Nothing kept.
      }
    },
  };

  // draft reads the form as the API takes it.
  function draft() {
    const levels = [];
    for (const group of form.querySelectorAll("[data-criterion]")) {
      const id = group.dataset.criterion;
      const chosen = form.querySelector('input[name="level-' + CSS.escape(id) + '"]:checked');
      const comment = form.elements["comment-" + id].value;
      const turnsEl = form.elements["turns-" + id];
      const turns = turnsEl
        ? turnsEl.value.split(/[,\s]+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n >= 0)
        : [];
      if (chosen || comment || turns.length) {
        levels.push({ criterionId: id, levelId: chosen ? chosen.value : "", comment, turns });
      }
    }
    return { levels, feedback: form.elements.feedback.value, privateNote: form.elements.privateNote.value };
  }

  function fill(d) {
    for (const l of d.levels || []) {
      const radio = form.querySelector('input[name="level-' + CSS.escape(l.criterionId) + '"][value="' + CSS.escape(l.levelId) + '"]');
      if (radio) radio.checked = true;
      const comment = form.elements["comment-" + l.criterionId];
      if (comment) comment.value = l.comment || "";
      const turns = form.elements["turns-" + l.criterionId];
      if (turns) turns.value = (l.turns || []).join(", ");
    }
    form.elements.feedback.value = d.feedback || "";
    form.elements.privateNote.value = d.privateNote || "";
  }

  function show(text) {
    state.textContent = text;
  }

  // A draft kept from before a reload, typed on the version now stored, is put back.
  const kept = storage.get();
  if (kept && kept.base === version) {
    fill(kept.draft);
    schedule(0);
  }

  function schedule(delay) {
    clearTimeout(timer);
    storage.set({ base: version, draft: draft() });
    show("Not saved yet…");
    timer = setTimeout(save, delay);
  }

  async function save() {
    if (other) return; // waiting for the marker's choice
    if (inflight) {
      again = true;
      return;
    }
    inflight = true;
    show("Saving…");
    let res, body;
    try {
      res = await fetch(api, {
        method: "PUT",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf, "If-Match": '"' + version + '"' },
        body: JSON.stringify(draft()),
        credentials: "same-origin",
      });
      body = await res.json().catch(() => null);
    } catch {
      inflight = false;
      show("Offline: your marking is kept on this page and will be saved when the connection is back.");
      timer = setTimeout(save, 5000);
      return;
    }
    inflight = false;
    if (res.ok && body) {
      version = body.version;
      form.dataset.version = String(version);
      $("mark-base").value = String(version);
      storage.clear();
      show("Draft saved (version " + version + ") at " + new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) + ".");
      if (again) {
        again = false;
        schedule(0);
      }
      return;
    }
    if (res.status === 409 && body && body.server) {
      other = body.server;
      $("conflict-other").textContent = "The other version is version " + other.version + ", saved " + new Date(other.savedAt).toLocaleString("en-GB") + ".";
      conflict.hidden = false;
      $("conflict-heading").focus();
      show("Not saved: your marking was saved elsewhere since.");
      return;
    }
    const why = body && body.error ? body.error : "the server refused it (" + res.status + ")";
    show("Not saved: " + why + ". Your text is kept here.");
  }

  $("keep-mine").addEventListener("click", () => {
    version = other.version;
    other = null;
    conflict.hidden = true;
    schedule(0);
  });
  $("take-theirs").addEventListener("click", () => {
    version = other.version;
    form.dataset.version = String(version);
    $("mark-base").value = String(version);
    fill(other);
    other = null;
    conflict.hidden = true;
    storage.clear();
    show("Loaded version " + version + ".");
  });

  form.addEventListener("input", () => schedule(1500));
  form.addEventListener("change", () => schedule(300));

  // Clicking a turn cites it in the criterion last worked on.
  let lastTurns = form.querySelector("[data-turns]");
  form.addEventListener("focusin", (e) => {
    const group = e.target.closest("[data-criterion]");
    if (group && group.querySelector("[data-turns]")) lastTurns = group.querySelector("[data-turns]");
  });
  const transcript = document.getElementById("transcript");
  if (transcript && lastTurns) {
    for (const turn of transcript.querySelectorAll("[data-seq]")) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "nhsuk-button nhsuk-button--small nhsuk-button--secondary cite-turn";
      button.textContent = "Cite turn " + turn.dataset.seq;
      button.addEventListener("click", () => {
        const have = lastTurns.value.split(/[,\s]+/).filter(Boolean);
        if (!have.includes(turn.dataset.seq)) have.push(turn.dataset.seq);
        lastTurns.value = have.join(", ");
        schedule(300);
        show("Cited turn " + turn.dataset.seq + " for " + lastTurns.closest("[data-criterion]").querySelector("legend").textContent + ".");
      });
      turn.appendChild(button);
    }
  }

  // Before the form's own submit, the save in flight is finished, so the version is right.
  form.addEventListener("submit", () => {
    clearTimeout(timer);
    storage.clear();
  });
}
