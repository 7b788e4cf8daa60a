// The live dialogue room: one websocket to the room (see the realtime package for the
// protocol), the conversation, hands, go-rounds, phases, pauses and the polyphony meter.
//
// What a person has typed is never lost to a bad connection: the draft and every message not
// yet acknowledged by the server are kept in sessionStorage, and unacknowledged messages are
// sent again, with the same id, after reconnecting (the server never makes a second turn of
// one id).

const root = document.getElementById("room");
const me = { userId: root.dataset.user, name: root.dataset.name, role: root.dataset.role };
const isFacilitator = me.role === "facilitator";
const roomPath = root.dataset.path;
const storeKey = "polyphony.room." + roomPath;

const $ = (id) => document.getElementById(id);
const el = {
  openTag: $("room-open"),
  status: $("room-status"),
  phase: $("phase"),
  phaseTitle: $("phase-title"),
  phaseText: $("phase-text"),
  pause: $("pause"),
  pauseCount: $("pause-count"),
  log: $("log"),
  logList: $("log-list"),
  logEmpty: $("log-empty"),
  outboxWrap: $("outbox-wrap"),
  outbox: $("outbox"),
  typing: $("typing"),
  composer: $("composer"),
  composerGroup: $("composer-group"),
  message: $("message"),
  reason: $("composer-reason"),
  error: $("composer-error"),
  send: $("send"),
  hands: $("hands"),
  handsEmpty: $("hands-empty"),
  raiseHand: $("raise-hand"),
  lowerHand: $("lower-hand"),
  floor: $("floor"),
  goRoundWrap: $("go-round-wrap"),
  goRound: $("go-round"),
  pass: $("pass"),
  people: $("people"),
  peopleCount: $("people-count"),
  meterChart: $("meter-chart"),
  meterText: $("meter-text"),
  meterEquity: $("meter-equity"),
  // Facilitators only; null for trainees.
  openForm: $("open-form"),
  closeForm: $("close-form"),
  phaseButtons: [...document.querySelectorAll("#phase-controls [data-phase]")],
  startGoRound: $("start-go-round"),
  goRoundPlan: $("go-round-plan"),
  goRoundPlanList: $("go-round-plan-list"),
  endGoRound: $("end-go-round"),
  lockInput: $("lock-input"),
  unlockInput: $("unlock-input"),
  liveControls: $("live-controls"),
  pauseForm: $("pause-form"),
  pauseSeconds: $("pause-seconds"),
};

// ---- What survives a reload: the draft and the unacknowledged messages ----

const saved = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(storeKey)) || {};
  } catch {
    return {};
  }
})();
let pending = Array.isArray(saved.pending) ? saved.pending : []; // [{id, text}]
el.message.value = typeof saved.draft === "string" ? saved.draft : "";

function persist() {
  try {
    sessionStorage.setItem(storeKey, JSON.stringify({ pending, draft: el.message.value }));
  } catch {
    // Storage full or refused: the page still works, only a reload would lose the text.
  }
}

function newID() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}

// ---- The room as this person knows it ----

const room = {
  known: false, // a welcome has arrived
  open: false,
  members: [],
  hands: [],
  phase: "",
  floor: null, // given by a facilitator
  goRound: null, // the order, while a round is under way
  goHolder: null,
  pauseUntil: 0, // local clock, ms; 0 for no pause
  locked: false,
};
let lastSeq = 0;
let clockSkew = 0; // local clock minus server clock, ms, from the latest event
const seenSays = new Set(); // client ids of this person's turns on the timeline
let gone = null; // why the connection will not come back, once it will not

function applyState(s) {
  room.known = true;
  room.open = s.open;
  room.members = s.members || [];
  room.hands = s.hands || [];
  room.phase = s.phase || "";
  room.goRound = s.goRound && s.goRound.length ? s.goRound : null;
  room.goHolder = room.goRound ? s.floor || null : null;
  room.floor = room.goRound ? null : s.floor || null;
  room.pauseUntil = s.pauseUntil ? Date.parse(s.pauseUntil) + clockSkew : 0;
  room.locked = !!s.inputLocked;
}

// applyEvent changes the room for one live timeline event.
function applyEvent(e) {
  switch (e.type) {
    case "joined":
      if (!room.members.some((m) => m.userId === e.userId)) {
        room.members.push({ userId: e.userId, name: e.name, role: e.role });
      }
      break;
    case "left":
      room.members = room.members.filter((m) => m.userId !== e.userId);
      break;
    case "hand_queue":
      room.hands = e.queue || [];
      break;
    case "floor":
      room.floor = e.target || null;
      break;
    case "go_round":
      // A go-round takes the floor over: a floor given before it ends with it.
      room.floor = null;
      if (e.active) {
        room.goRound = e.order || [];
        room.goHolder = e.target || null;
      } else {
        room.goRound = null;
        room.goHolder = null;
      }
      break;
    case "phase":
      room.phase = e.phase;
      break;
    case "pause":
      room.pauseUntil = e.active && e.until ? Date.now() + (Date.parse(e.until) - Date.parse(e.at)) : 0;
      break;
    case "input":
      room.locked = !!e.locked;
      break;
    case "room":
      room.open = !!e.open;
      if (!room.open) {
        room.hands = [];
        room.floor = null;
        room.goRound = null;
        room.goHolder = null;
        room.pauseUntil = 0;
        room.locked = false;
      }
      break;
  }
}

const phaseNames = {
  network_speaks: "Network speaks",
  team_reflects: "The team reflects",
  network_responds: "The network responds",
};

// ---- The conversation log ----

const timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined) n.textContent = text;
  return n;
}

function timeNode(at) {
  const t = node("time", "turn__time", timeFormat.format(new Date(at)));
  t.dateTime = at;
  return t;
}

// note describes a timeline event other than a turn, for the log, or returns "".
function note(e) {
  const by = e.name ? e.name : "A facilitator";
  switch (e.type) {
    case "room":
      return e.open ? by + " opened the room." : by + " closed the room.";
    case "phase":
      return "Phase: " + (phaseNames[e.phase] || e.phase) + ".";
    case "pause":
      return e.active ? by + " started a mindful pause." : "The pause has ended.";
    case "input":
      return e.locked ? by + " locked input: trainees speak when given the floor." : by + " unlocked input.";
    case "floor":
      return e.target ? by + " gave the floor to " + (e.target.userId === me.userId ? "you" : e.target.name) + "." : "";
    case "go_round":
      if (!e.active) return "The go-round has ended.";
      return e.target ? "Go-round: " + (e.target.userId === me.userId ? "you have" : e.target.name + " has") + " the floor." : "";
    case "removed":
      return e.target && e.target.name ? by + " removed " + e.target.name + " from the room." : "";
  }
  return "";
}

function logEvent(e) {
  let item;
  if (e.type === "say") {
    if (e.userId === me.userId && e.id) seenSays.add(e.id);
    item = node("li", "turn" + (e.userId === me.userId ? " turn--mine" : "") + (e.role === "facilitator" ? " turn--facilitator" : ""));
    item.dataset.seq = e.seq;
    const meta = node("p", "turn__meta");
    meta.append(node("span", "turn__who", e.userId === me.userId ? e.name + " (you)" : e.name));
    if (e.role === "facilitator") meta.append(" ", node("span", "turn__role", "facilitator"));
    meta.append(" ", timeNode(e.at));
    item.append(meta, node("p", "turn__text", e.text));
  } else {
    const text = note(e);
    if (!text) return;
    item = node("li", "room-note");
    item.dataset.seq = e.seq;
    item.append(node("span", "room-note__text", text + " "), timeNode(e.at));
  }
  const atBottom = el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 40;
  el.logList.append(item);
  el.logEmpty.hidden = true;
  if (atBottom) el.log.scrollTop = el.log.scrollHeight;
}

function renderOutbox() {
  const waiting = pending.filter((p) => !seenSays.has(p.id));
  el.outbox.replaceChildren(...waiting.map((p) => node("li", "room-outbox__item", p.text)));
  el.outboxWrap.hidden = waiting.length === 0;
}

// ---- Typing ----

const typers = new Map(); // userId → {name, until}
let typingTimer = 0;
let lastTypingSent = 0;

function renderTyping() {
  const now = Date.now();
  for (const [id, t] of typers) if (t.until <= now) typers.delete(id);
  const names = [...typers.values()].map((t) => t.name);
  el.typing.textContent =
    names.length === 0 ? "" : names.length === 1 ? names[0] + " is typing…" : names.slice(0, -1).join(", ") + " and " + names.at(-1) + " are typing…";
  clearTimeout(typingTimer);
  if (typers.size) typingTimer = setTimeout(renderTyping, 1000);
}

// ---- The polyphony meter ----

const svgNS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const n = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

const percent = (x) => Math.round(x * 100) + "%";

function equityWords(eq) {
  if (eq >= 0.85) return "voices are shared evenly";
  if (eq >= 0.6) return "voices are shared fairly evenly";
  if (eq >= 0.35) return "a few voices carry most of the words";
  return "one or two voices carry almost all the words";
}

function renderMeter(m) {
  const lines = m.members || (m.self ? [m.self] : []);
  const rowH = 36;
  const height = Math.max(lines.length * rowH, rowH);
  el.meterChart.setAttribute("viewBox", "0 0 300 " + height);
  el.meterChart.setAttribute("height", String(height));
  const parts = [];
  const texts = [];
  lines.forEach((l, i) => {
    const y = i * rowH;
    const mine = l.userId === me.userId;
    const who = mine ? (isFacilitator ? l.name + " (you)" : "You") : l.name;
    parts.push(svg("text", { x: "0", y: String(y + 13), class: "meter__label" }, who));
    parts.push(svg("text", { x: "300", y: String(y + 13), "text-anchor": "end", class: "meter__value" }, percent(l.wordShare)));
    parts.push(svg("rect", { x: "0", y: String(y + 18), width: "300", height: "12", rx: "2", class: "meter__track" }));
    parts.push(svg("rect", { x: "0", y: String(y + 18), width: String(Math.round(l.wordShare * 300 * 10) / 10), height: "12", rx: "2", class: "meter__bar" + (mine ? " meter__bar--mine" : "") }));
    const turns = l.turns === 1 ? "1 turn" : l.turns + " turns";
    texts.push(node("li", "", who + ": " + percent(l.wordShare) + " of the words, in " + turns + "."));
  });
  el.meterChart.replaceChildren(...parts);
  el.meterChart.classList.toggle("meter__chart--empty", lines.length === 0);
  el.meterText.replaceChildren(...texts);
  const spoken = lines.some((l) => l.words > 0);
  if (lines.length === 0) {
    el.meterEquity.textContent = room.open ? "Nobody has been counted yet." : "The meter starts again when the room opens.";
  } else if (m.self) {
    el.meterEquity.textContent = spoken ? "" : "You have not spoken since the room opened.";
  } else if (!spoken) {
    el.meterEquity.textContent = "Nobody has spoken since the room opened.";
  } else if (typeof m.equity === "number") {
    el.meterEquity.textContent =
      "Balance of voices: " + m.equity.toFixed(2) + " on a scale where 1 means everyone here has spoken equally and 0 means one person said every word, so " + equityWords(m.equity) + ".";
  } else {
    el.meterEquity.textContent = "";
  }
}

// ---- Rendering the room ----

// keepFocus re-renders part of the page and puts the focus back on the control with the same
// data-key, so that an update from the room does not throw a keyboard user out.
function keepFocus(render) {
  const key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : undefined;
  render();
  if (key) {
    const again = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (again && again !== document.activeElement) again.focus();
  }
}

// swap shows one of two buttons and hides the other, moving the focus across with it.
function swap(show, hide) {
  if (!show || !hide) return;
  const hadFocus = document.activeElement === hide;
  show.hidden = false;
  hide.hidden = true;
  if (hadFocus) show.focus();
}

function smallButton(text, hidden, key, action, extraClass) {
  const b = node("button", "nhsuk-button nhsuk-button--small nhsuk-button--secondary room-list__button" + (extraClass ? " " + extraClass : ""));
  b.type = "button";
  b.append(text);
  if (hidden) b.append(node("span", "nhsuk-u-visually-hidden", hidden));
  b.dataset.key = key;
  b.addEventListener("click", action);
  return b;
}

const whoLabel = (m) => (m.userId === me.userId ? m.name + " (you)" : m.name);
const floorHolder = () => room.goHolder || room.floor;

let confirmRemove = "";
let confirmTimer = 0;

function renderPeople() {
  el.peopleCount.textContent = String(room.members.length);
  const items = room.members.map((m) => {
    const li = node("li", "room-list__item");
    li.append(node("span", "room-list__name", whoLabel(m)));
    if (m.role === "facilitator") li.append(" ", node("strong", "nhsuk-tag nhsuk-tag--blue room-list__tag", "Facilitator"));
    const holder = floorHolder();
    if (holder && holder.userId === m.userId) li.append(" ", node("strong", "nhsuk-tag nhsuk-tag--green room-list__tag", "Has the floor"));
    if (isFacilitator && room.open) {
      const actions = node("span", "room-list__actions");
      actions.append(smallButton("Give floor", " to " + m.name, "floor-" + m.userId, () => send({ type: "give_floor", userId: m.userId })));
      if (m.userId !== me.userId) {
        const confirming = confirmRemove === m.userId;
        actions.append(
          smallButton(confirming ? "Confirm: remove" : "Remove", " " + m.name, "remove-" + m.userId, () => {
            if (confirmRemove === m.userId) {
              confirmRemove = "";
              send({ type: "remove", userId: m.userId });
            } else {
              confirmRemove = m.userId;
              clearTimeout(confirmTimer);
              confirmTimer = setTimeout(() => {
                confirmRemove = "";
                keepFocus(renderPeople);
              }, 6000);
            }
            keepFocus(renderPeople);
          }, confirming ? "room-list__button--warning" : ""),
        );
      }
      li.append(actions);
    }
    return li;
  });
  el.people.replaceChildren(...items);
}

function renderHands() {
  const items = room.hands.map((m, i) => {
    const li = node("li", "room-list__item");
    li.append(node("span", "room-list__name", whoLabel(m)));
    if (i === 0) li.append(" ", node("span", "room-list__hint", "(next)"));
    if (isFacilitator && room.open) {
      const actions = node("span", "room-list__actions");
      actions.append(
        smallButton("Give floor", " to " + m.name, "hand-floor-" + m.userId, () => send({ type: "give_floor", userId: m.userId })),
        smallButton("Lower hand", " of " + m.name, "hand-lower-" + m.userId, () => send({ type: "lower_hand", userId: m.userId })),
      );
      li.append(actions);
    }
    return li;
  });
  el.hands.replaceChildren(...items);
  el.handsEmpty.hidden = items.length > 0;
  const raised = room.hands.some((m) => m.userId === me.userId);
  if (raised) swap(el.lowerHand, el.raiseHand);
  else swap(el.raiseHand, el.lowerHand);
  el.raiseHand.disabled = !room.open;
}

function renderFloor() {
  const holder = floorHolder();
  if (room.goRound) {
    el.floor.textContent = holder ? (holder.userId === me.userId ? "Go-round: you have the floor." : "Go-round: " + holder.name + " has the floor.") : "Go-round under way.";
  } else if (holder) {
    el.floor.textContent = holder.userId === me.userId ? "You have the floor." : "The floor is with " + holder.name + ".";
  } else {
    el.floor.textContent = "Nobody has been given the floor.";
  }
  el.goRoundWrap.hidden = !room.goRound;
  const items = (room.goRound || []).map((m) => {
    const li = node("li", "room-list__item", whoLabel(m));
    if (holder && holder.userId === m.userId) {
      li.classList.add("room-list__item--current");
      li.setAttribute("aria-current", "true");
      li.append(" ", node("strong", "nhsuk-tag nhsuk-tag--green room-list__tag", "Has the floor"));
    }
    return li;
  });
  el.goRound.replaceChildren(...items);
  el.pass.hidden = !(room.goRound && holder && holder.userId === me.userId);
}

// plan is the go-round order the facilitator has arranged, as user ids. The round follows it
// for the people still present; anyone else follows in the order they came in, as the server
// does with the order it is sent.
let plan = [];

function planOrder() {
  const here = new Map(room.members.map((m) => [m.userId, m]));
  const out = plan.filter((id) => here.has(id)).map((id) => here.get(id));
  for (const m of room.members) if (!out.includes(m)) out.push(m);
  return out;
}

function movePlan(i, by) {
  const order = planOrder().map((m) => m.userId);
  const j = i + by;
  if (j < 0 || j >= order.length) return;
  const id = order[i];
  [order[i], order[j]] = [order[j], order[i]];
  plan = order;
  keepFocus(renderPlan);
  // At the top or the bottom the button pressed is disabled: the focus stays with the person.
  const pressed = document.querySelector('[data-key="' + CSS.escape((by < 0 ? "plan-up-" : "plan-down-") + id) + '"]');
  if (pressed && pressed.disabled) {
    const other = document.querySelector('[data-key="' + CSS.escape((by < 0 ? "plan-down-" : "plan-up-") + id) + '"]');
    if (other) other.focus();
  }
}

function renderPlan() {
  if (!el.goRoundPlan) return;
  el.goRoundPlan.hidden = !room.open || !!room.goRound || room.members.length === 0;
  const order = planOrder();
  const items = order.map((m, i) => {
    const li = node("li", "room-list__item");
    li.append(node("span", "room-list__name", whoLabel(m)));
    const actions = node("span", "room-list__actions");
    const up = smallButton("Move up", " " + m.name, "plan-up-" + m.userId, () => movePlan(i, -1));
    const down = smallButton("Move down", " " + m.name, "plan-down-" + m.userId, () => movePlan(i, 1));
    up.disabled = i === 0;
    down.disabled = i === order.length - 1;
    actions.append(up, down);
    li.append(actions);
    return li;
  });
  el.goRoundPlanList.replaceChildren(...items);
}

function renderPhase() {
  const p = room.phase;
  el.phase.className = "phase-banner";
  if (!room.known) {
    el.phase.classList.add("phase-banner--unknown");
    return;
  }
  if (!room.open) {
    el.phase.classList.add("phase-banner--closed");
    el.phaseTitle.textContent = "The room is closed";
    el.phaseText.textContent = isFacilitator
      ? "Open the room when the session starts."
      : "A facilitator opens the room when the session starts. You can read the transcript meanwhile.";
    return;
  }
  el.phase.classList.add("phase-banner--" + p.replace(/_/g, "-"));
  el.phaseTitle.textContent = phaseNames[p] || p;
  let text;
  switch (p) {
    case "team_reflects":
      text = isFacilitator
        ? "The reflecting team talks together while the network listens. Trainees' input is locked."
        : "Trainees listen while the reflecting team talks together. Your input is locked until the facilitator moves on.";
      break;
    case "network_responds":
      text = "The network responds to what it heard from the team.";
      break;
    default:
      text = "The network speaks; the reflecting team listens.";
  }
  if (room.locked) text += " Input is locked by the facilitator: trainees speak when given the floor.";
  el.phaseText.textContent = text;
}

// blockedReason says why this person cannot send now, or returns "".
function blockedReason() {
  if (gone) return gone;
  if (!room.known) return "";
  if (!room.open) return "The room is closed, so messages cannot be sent.";
  if (room.pauseUntil) return "Mindful pause: sending resumes when the countdown ends.";
  if (isFacilitator) return "";
  const holder = floorHolder();
  const mine = holder && holder.userId === me.userId;
  if (room.phase === "team_reflects") return "The team is reflecting: trainees listen until the facilitator moves on.";
  if (room.goRound && !mine) return "Go-round: " + (room.goHolder ? room.goHolder.name + " has the floor" : "wait for your turn") + ".";
  if (room.locked && !mine) return "The facilitator has locked input: you can speak when given the floor.";
  return "";
}

function renderComposer() {
  const why = blockedReason();
  el.reason.textContent = why;
  el.reason.hidden = !why;
  el.message.disabled = !!why;
  el.send.disabled = !!why;
  el.composer.classList.toggle("composer--blocked", !!why);
}

function renderControls() {
  if (!isFacilitator) return;
  if (room.known) {
    el.openForm.hidden = room.open;
    el.closeForm.hidden = !room.open;
    el.liveControls.hidden = !room.open;
  }
  for (const b of el.phaseButtons) {
    b.setAttribute("aria-pressed", String(room.open && b.dataset.phase === room.phase));
    b.disabled = !room.open;
  }
  if (room.goRound) swap(el.endGoRound, el.startGoRound);
  else swap(el.startGoRound, el.endGoRound);
  if (room.locked) swap(el.unlockInput, el.lockInput);
  else swap(el.lockInput, el.unlockInput);
  for (const b of [el.startGoRound, el.endGoRound, el.lockInput, el.unlockInput, el.pauseForm.querySelector("button")]) {
    b.disabled = !room.open;
  }
}

let pauseTimer = 0;

function renderPause() {
  clearInterval(pauseTimer);
  if (!room.pauseUntil) {
    el.pause.hidden = true;
    return;
  }
  el.pause.hidden = false;
  const tick = () => {
    const left = Math.max(0, Math.ceil((room.pauseUntil - Date.now()) / 1000));
    el.pauseCount.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  };
  tick();
  pauseTimer = setInterval(tick, 250);
}

function renderOpen() {
  if (!room.known) return;
  el.openTag.textContent = room.open ? "Open" : "Closed";
  el.openTag.className = "nhsuk-tag " + (room.open ? "nhsuk-tag--green" : "nhsuk-tag--grey");
}

function render() {
  keepFocus(() => {
    renderOpen();
    renderPhase();
    renderPeople();
    renderHands();
    renderFloor();
    renderPlan();
    renderControls();
    renderPause();
    renderComposer();
  });
}

// ---- Errors ----

function showError(text) {
  el.error.replaceChildren(node("span", "nhsuk-u-visually-hidden", "Error: "), text);
  el.error.hidden = false;
  el.composerGroup.classList.add("nhsuk-form-group--error");
}

function clearError() {
  el.error.hidden = true;
  el.error.replaceChildren();
  el.composerGroup.classList.remove("nhsuk-form-group--error");
}

// The server's errors start with the message type ("say: the room is closed"); people read
// the part after it.
function errorText(m) {
  const text = String(m.error || "Something went wrong");
  const i = text.indexOf(": ");
  const rest = m.for && i >= 0 && text.slice(0, i) === m.for ? text.slice(i + 2) : text;
  return rest.charAt(0).toUpperCase() + rest.slice(1) + ".";
}

// ---- The connection ----

let ws = null;
let welcomed = false;
let attempt = 0;
let retryTimer = 0;

function setStatus(text) {
  if (el.status.textContent !== text) el.status.textContent = text;
}

function socketURL() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + roomPath + "/ws?lastSeq=" + lastSeq;
}

function connect() {
  clearTimeout(retryTimer);
  welcomed = false;
  const socket = new WebSocket(socketURL());
  ws = socket;
  socket.addEventListener("message", (ev) => {
    if (ws !== socket) return;
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    receive(m);
  });
  socket.addEventListener("close", (ev) => {
    if (ws !== socket) return;
    ws = null;
    welcomed = false;
    closed(ev.code);
  });
}

function closed(code) {
  switch (code) {
    case 4003:
      gone = "You were removed from this room by a facilitator.";
      break;
    case 1008:
      gone = "The connection was ended: your session may have ended, or too many messages were sent. Reload the page to join again.";
      break;
    case 1009:
      gone = "A message was too large for the room. Reload the page to join again.";
      break;
  }
  if (gone) {
    setStatus("Disconnected");
    showError(gone);
    render();
    return;
  }
  setStatus("Reconnecting…");
  const wait = Math.min(30000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
  attempt++;
  retryTimer = setTimeout(connect, wait);
}

function send(msg) {
  if (!ws || !welcomed || ws.readyState !== WebSocket.OPEN) {
    if (msg.type !== "typing") showError("Not connected: try again once the room shows Connected.");
    return false;
  }
  if (msg.type !== "typing") clearError();
  ws.send(JSON.stringify(msg));
  return true;
}

// resend sends every unacknowledged message again, a few at a time so as to stay well inside
// the room's rate limit.
let resendTimer = 0;

function resend() {
  const batch = pending.slice();
  batch.forEach((p, i) => {
    setTimeout(() => {
      if (welcomed && pending.some((q) => q.id === p.id)) ws.send(JSON.stringify({ type: "say", text: p.text, id: p.id }));
    }, Math.max(0, i - 4) * 250);
  });
}

function receive(m) {
  if (m.type === "welcome") {
    if (lastSeq === 0) {
      // The room's history, on first joining: there to read, not to be read out all at once.
      el.logList.replaceChildren();
      seenSays.clear();
      el.log.setAttribute("aria-live", "off");
      setTimeout(() => el.log.setAttribute("aria-live", "polite"), 1000);
      if (m.historyFrom > 1) {
        const li = node("li", "room-note", "Earlier messages are in the ");
        const a = node("a", "", "transcript");
        a.href = roomPath + "/transcript";
        li.append(a, ".");
        el.logList.append(li);
      }
    }
    for (const e of m.events || []) {
      if (e.seq > lastSeq) {
        logEvent(e);
        lastSeq = e.seq;
      }
    }
    if (m.lastSeq > lastSeq) lastSeq = m.lastSeq;
    applyState(m.state);
    if (m.meter) renderMeter(m.meter);
    welcomed = true;
    attempt = 0;
    setStatus("Connected");
    render();
    renderOutbox();
    resend();
    if (!el.logList.children.length) el.logEmpty.hidden = false;
    return;
  }
  if (typeof m.seq === "number") {
    if (m.seq <= lastSeq) return;
    lastSeq = m.seq;
    if (m.at) clockSkew = Date.now() - Date.parse(m.at);
    applyEvent(m);
    logEvent(m);
    if (m.type === "room" && m.open) {
      // The meter starts again; the server's next meter message fills it in.
      const zero = (p) => ({ userId: p.userId, name: p.name, role: p.role, turns: 0, words: 0, wordShare: 0, turnShare: 0 });
      renderMeter(isFacilitator ? { members: room.members.map(zero), equity: 1 } : { self: zero(me) });
    }
    if (m.type === "say") {
      typers.delete(m.userId);
      renderTyping();
      renderOutbox();
    }
    if (m.type !== "say") render();
    return;
  }
  switch (m.type) {
    case "ack":
      pending = pending.filter((p) => p.id !== m.id);
      persist();
      renderOutbox();
      break;
    case "error": {
      const p = m.id ? pending.find((q) => q.id === m.id) : null;
      if (p) {
        // Refused, so it will never be a turn: give the words back to the writer.
        pending = pending.filter((q) => q.id !== m.id);
        el.message.value = el.message.value.trim() ? el.message.value + "\n\n" + p.text : p.text;
        persist();
        renderOutbox();
      }
      if (!m.for && pending.length) {
        // Refused before it was read (too many messages at once): try again shortly.
        clearTimeout(resendTimer);
        resendTimer = setTimeout(resend, 1500);
      }
      showError(errorText(m));
      break;
    }
    case "meter":
      renderMeter(m);
      break;
    case "typing":
      if (m.userId !== me.userId) {
        typers.set(m.userId, { name: m.name, until: Date.now() + 4000 });
        renderTyping();
      }
      break;
  }
}

// ---- What the person does ----

const maxFrameBytes = 4000; // the server closes the connection on a frame over 4096 bytes

el.composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (blockedReason()) return;
  const text = el.message.value;
  if (!text.trim()) {
    showError("Write a message before sending.");
    return;
  }
  const p = { id: newID(), text };
  if (new TextEncoder().encode(JSON.stringify({ type: "say", text, id: p.id })).length > maxFrameBytes) {
    showError("The message is too long to send in one go: split it into shorter messages.");
    return;
  }
  clearError();
  pending.push(p);
  el.message.value = "";
  persist();
  renderOutbox();
  if (welcomed && ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "say", text: p.text, id: p.id }));
});

el.message.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    el.composer.requestSubmit();
  }
});

el.message.addEventListener("input", () => {
  persist();
  const now = Date.now();
  if (el.message.value.trim() && now - lastTypingSent > 3000 && welcomed) {
    lastTypingSent = now;
    send({ type: "typing" });
  }
});

el.raiseHand.addEventListener("click", () => send({ type: "raise_hand" }));
el.lowerHand.addEventListener("click", () => send({ type: "lower_hand" }));
el.pass.addEventListener("click", () => send({ type: "pass" }));

if (isFacilitator) {
  for (const b of el.phaseButtons) b.addEventListener("click", () => send({ type: "set_phase", phase: b.dataset.phase }));
  el.startGoRound.addEventListener("click", () => send({ type: "start_go_round", order: planOrder().map((m) => m.userId) }));
  el.endGoRound.addEventListener("click", () => send({ type: "end_go_round" }));
  el.lockInput.addEventListener("click", () => send({ type: "lock_input" }));
  el.unlockInput.addEventListener("click", () => send({ type: "unlock_input" }));
  el.pauseForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const seconds = Number(el.pauseSeconds.value);
    if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) {
      showError("Enter a pause of 5 to 600 seconds.");
      el.pauseSeconds.focus();
      return;
    }
    send({ type: "start_pause", seconds });
  });
}

// A browser that comes back online tries at once rather than waiting out the backoff.
window.addEventListener("online", () => {
  if (!ws && !gone) {
    attempt = 0;
    connect();
  }
});

render();
renderOutbox();
connect();
