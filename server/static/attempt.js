// The attempt page: each answer is saved through the API as it is chosen, answers not yet
// acknowledged are kept on this device and sent again until the server has them, and a
// countdown runs to the deadline the server set. Without JavaScript the same form posts the
// answers with each button.

const form = document.getElementById("attempt-form");
const timerBox = document.getElementById("attempt-timer");
const status = document.getElementById("save-status");

// closed is set once the server or the clock says the attempt takes no more answers.
let closed = false;

function say(text, kind) {
  if (!status) return;
  status.textContent = text;
  status.dataset.kind = kind;
}

// lockForm stops further answers and submissions on the page; answers already chosen are
// still sent until the server refuses them.
function lockForm(message) {
  for (const el of document.querySelectorAll('main form[action^="/attempts/"] :is(input[type=radio], button)')) {
    el.disabled = true;
  }
  say(message, "error");
}

function closeForm(message) {
  closed = true;
  lockForm(message);
}

if (form) {
  const attempt = form.dataset.attempt;
  const total = Number(form.dataset.total);
  const csrf = form.querySelector("input[name=csrf]").value;
  const key = "polyphony-attempt-" + attempt;
  const answered = new Set(
    [...document.querySelectorAll(".attempt-nav__item--answered")].map((b) => b.dataset.question),
  );

  // pending maps a question's index to the option chosen and not yet acknowledged.
  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(key)) || {};
    } catch {
      return {};
    }
  };
  const keep = () => {
    try {
      if (Object.keys(pending).length) localStorage.setItem(key, JSON.stringify(pending));
      else localStorage.removeItem(key);
    } catch {
      // Storage refused (private mode, full): the answer is still retried while the page is open.
    }
  };
  const pending = load();

  const mark = (q, state) => {
    const note = document.getElementById("saved-" + q);
    if (note) {
      note.dataset.state = state;
      note.textContent = {
        saving: "Saving…",
        saved: "Saved",
        pending: "Not saved yet: kept on this device",
        error: "Not saved",
      }[state];
    }
    if (state === "saved") {
      answered.add(String(q));
      const nav = document.getElementById("nav-" + q);
      if (nav) {
        nav.classList.add("attempt-nav__item--answered");
        const hidden = nav.querySelector(".attempt-nav__state");
        if (hidden) hidden.textContent = ", answered";
      }
    }
  };

  let sending = false;
  let retry = 0;
  let delay = 2000;

  const offline = () => {
    for (const q of Object.keys(pending)) mark(q, "pending");
    say(
      "Not saved yet: the connection to the server seems to be down. Your answers are kept on this device and will be sent as soon as it returns.",
      "offline",
    );
    clearTimeout(retry);
    retry = setTimeout(flush, delay);
    delay = Math.min(delay * 2, 15000);
  };

  async function flush() {
    if (sending || closed) return;
    sending = true;
    try {
      for (const q of Object.keys(pending)) {
        const option = pending[q];
        mark(q, "saving");
        let res;
        try {
          res = await fetch(`/api/v1/attempts/${encodeURIComponent(attempt)}/answers/${q}`, {
            method: "PUT",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
            body: JSON.stringify({ option }),
            credentials: "same-origin",
          });
        } catch {
          offline();
          return;
        }
        if (res.status >= 500) {
          offline();
          return;
        }
        const body = await res.json().catch(() => ({}));
        if (res.ok) {
          if (pending[q] === option) delete pending[q];
          keep();
          mark(q, "saved");
          continue;
        }
        delete pending[q];
        keep();
        mark(q, "error");
        if (res.status === 409) {
          for (const k of Object.keys(pending)) delete pending[k];
          keep();
          closeForm((body.error || "This attempt is closed.") + " Reload the page to see it.");
          return;
        }
        say(`Your answer to question ${Number(q) + 1} was not saved: ${body.error || res.statusText}.`, "error");
        return;
      }
      delay = 2000;
      say(`All your answers are saved. You have answered ${answered.size} of ${total} questions.`, "saved");
    } finally {
      sending = false;
    }
    // Answers chosen while the others were being sent.
    if (Object.keys(pending).length && !closed) flush();
  }

  form.addEventListener("change", (e) => {
    const input = e.target;
    if (closed || !input.matches("input[type=radio][data-question]")) return;
    pending[input.dataset.question] = Number(input.value);
    keep();
    flush();
  });
  window.addEventListener("online", () => {
    delay = 2000;
    flush();
  });
  // Moving between questions posts the form; with answers still unsent and no connection,
  // stay here rather than lose the page.
  form.addEventListener("submit", (e) => {
    if (Object.keys(pending).length && !navigator.onLine) {
      e.preventDefault();
      offline();
    }
  });

  // Answers kept on this device from before a reload or a lost connection: show them and
  // send them.
  for (const [q, option] of Object.entries(pending)) {
    const radio = form.querySelector(`input[data-question="${q}"][value="${option}"]`);
    if (radio) radio.checked = true;
    mark(q, "pending");
  }
  if (Object.keys(pending).length) flush();
}

// The countdown: the server's deadline, read against the server's clock.
if (timerBox) {
  const ends = Date.parse(timerBox.dataset.ends);
  const deadline = Date.parse(timerBox.dataset.deadline);
  const skew = Date.parse(timerBox.dataset.serverTime) - Date.now();
  const value = document.getElementById("timer-value");
  const alert = document.getElementById("timer-alert");
  const warned = new Set();
  const pad = (n) => String(n).padStart(2, "0");
  const show = (ms) => {
    const s = Math.ceil(ms / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  };
  const tick = () => {
    const now = Date.now() + skew;
    const left = ends - now;
    if (left > 0) {
      value.textContent = show(left);
      for (const [mins, text] of [
        [5, "5 minutes left."],
        [1, "1 minute left."],
      ]) {
        if (left <= mins * 60000 && !warned.has(mins)) {
          warned.add(mins);
          alert.textContent = text;
          timerBox.classList.add("attempt-timer--low");
        }
      }
      setTimeout(tick, 1000 - (now % 1000) + 20);
      return;
    }
    value.textContent = "0:00, the attempt is closed";
    document.getElementById("timer-label").textContent = "Time is up:";
    if (!closed && !alert.dataset.up) {
      alert.dataset.up = "yes";
      alert.textContent = "Time is up.";
      lockForm("Time is up: this attempt is closed. The answers saved before the deadline will be marked.");
    }
    // After the grace period the server has closed the attempt: show what it says.
    setTimeout(() => location.reload(), Math.max(deadline - now, 0) + 1500);
  };
  tick();
}
