// The web chat page (templates/chat.html); a file, not inline, for the Content-Security-Policy.
// The session is an HttpOnly cookie the app issued with the page; this script never sees it.
"use strict";
const S = JSON.parse(document.getElementById("strings").textContent);
const LANG = document.documentElement.lang;
const conversation = document.querySelector(".conversation");
const log = document.getElementById("log");
const form = document.getElementById("send");
const input = document.getElementById("text");
const submit = document.getElementById("submit");
const typing = document.getElementById("typing");
const status = document.getElementById("status");
const withAgent = document.getElementById("with-agent");
const RANK = { queued: 0, sent: 1, delivered: 2, read: 3 };
const shown = new Map();  // message id -> {el, message}
let pending = false;
let ended = false;
let events = null;

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function scrollDown() { conversation.scrollTop = conversation.scrollHeight; }

function timeOf(iso) {
  const at = new Date(iso);
  return isNaN(at) ? "" : at.toLocaleTimeString(LANG === "id" ? "id-ID" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}

function bubble(message) {
  const el = document.createElement("div");
  const inbound = message.direction === "in";
  el.className = "msg " + (inbound ? "in" : "out " + message.author);
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = inbound ? S.you : (S[message.author] || S.bot);
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = message.text || "";
  const meta = document.createElement("span");
  meta.className = "meta";
  el.append(who, body, meta);
  return el;
}

function describe(entry) {
  const { el, message } = entry;
  el.dataset.id = message.id;
  el.querySelector(".body").textContent = message.text || "";
  el.querySelector(".meta").textContent = timeOf(message.at);
}

// Messages are kept in id order, whichever way they arrived (turn answer, live event, history).
function place(el, id) {
  for (const other of log.querySelectorAll(".msg[data-id]")) {
    if (Number(other.dataset.id) > id) { log.insertBefore(el, other); return; }
  }
  const firstPending = log.querySelector(".msg.pending");
  if (firstPending) log.insertBefore(el, firstPending); else log.appendChild(el);
}

function show(message, el) {
  const known = shown.get(message.id);
  if (known) { known.message = { ...known.message, ...message }; describe(known); return; }
  const entry = { el: el || bubble(message), message };
  shown.set(message.id, entry);
  entry.el.classList.remove("pending");
  describe(entry);
  place(entry.el, message.id);  // a sent message takes its place by id (replies may have come first)
  if (message.direction === "out") received([message]);
}

// Quick replies belong to the last bot turn: shown under the newest message only while it is ours.
function refreshButtons() {
  log.querySelectorAll(".buttons").forEach((row) => row.remove());
  const messages = log.querySelectorAll(".msg");
  const last = messages[messages.length - 1];
  if (!last || !last.dataset.id) return;
  const entry = shown.get(Number(last.dataset.id));
  if (!entry || entry.message.direction !== "out" || !(entry.message.buttons || []).length) return;
  const row = document.createElement("div");
  row.className = "buttons";
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", S.quick_replies);
  for (const b of entry.message.buttons) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = b.title;
    btn.addEventListener("click", () => send(b.payload, b.title));
    row.appendChild(btn);
  }
  log.appendChild(row);
}

function after() { refreshButtons(); scrollDown(); }

// -- a message that arrives while the tab is in the background shows as a count in its title -----
const TITLE = document.title;
let unseen = 0;
function noticeUnseen() {
  if (document.visibilityState === "visible") return;
  unseen += 1;
  document.title = "(" + unseen + ") " + TITLE;
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") { unseen = 0; document.title = TITLE; }
});

// -- receipts: delivered when shown, read when the page is visible ------------------------------
const unsent = { delivered: new Set(), read: new Set() };
let receiptTimer = null;

function received(messages) {
  for (const m of messages) {
    const rank = RANK[m.status] ?? 0;
    if (rank < RANK.delivered) unsent.delivered.add(m.id);
    if (rank < RANK.read) unsent.read.add(m.id);
  }
  scheduleReceipts();
}

function scheduleReceipts() {
  if (!receiptTimer) receiptTimer = setTimeout(flushReceipts, 300);
}

async function flushReceipts() {
  receiptTimer = null;
  if (ended) return;
  const batches = [["delivered", unsent.delivered]];
  if (document.visibilityState === "visible") batches.push(["read", unsent.read]);
  for (const [state, ids] of batches) {
    if (!ids.size) continue;
    const list = Array.from(ids).slice(0, 500);
    list.forEach((id) => ids.delete(id));
    if (state === "read") list.forEach((id) => unsent.delivered.delete(id));
    try {
      await fetch("/chat/api/receipts", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ids: list, status: state }),
      });
    } catch (err) { list.forEach((id) => ids.add(id)); }  // sent again with the next batch
  }
}
document.addEventListener("visibilitychange", scheduleReceipts);

// -- sending ------------------------------------------------------------------------------------
function setPending(on) {
  pending = on;
  submit.disabled = on || ended;
  submit.textContent = on ? S.sending : S.send;
  typing.hidden = !on;
  log.querySelectorAll(".buttons button").forEach((b) => { b.disabled = on; });
  if (on) scrollDown();
}

function problem(text, retry) {
  log.querySelectorAll(".error").forEach((e) => e.remove());
  const box = document.createElement("div");
  box.className = "error";
  box.setAttribute("role", "alert");
  box.textContent = text;
  if (retry) {
    const again = document.createElement("button");
    again.type = "button";
    again.textContent = S.retry;
    again.addEventListener("click", () => { box.remove(); retry(); });
    box.appendChild(again);
  }
  log.appendChild(box);
  scrollDown();
}

function endSession(text) {
  ended = true;
  input.disabled = true;
  submit.disabled = true;
  if (events) events.close();
  problem(text, null);
}

async function deliver(body, el) {
  setPending(true);
  log.querySelectorAll(".error").forEach((e) => e.remove());
  const retry = () => deliver(body, el);
  try {
    const res = await fetch("/chat/api/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Page-Language": LANG },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (err) { data = null; }
    if (res.ok) {
      show(data.message, el);
      for (const reply of data.replies) show(reply);
      withAgent.hidden = !data.with_agent;
    } else if (res.status === 503) {
      problem(S.err_busy, retry);  // saved: the answer comes on the live connection; retrying is safe
    } else if (res.status === 429) {
      problem(fill(S.err_rate, { seconds: res.headers.get("Retry-After") || "30" }), retry);
    } else if (res.status === 401) {
      endSession(S.err_session);
    } else if (res.status >= 500) {
      problem(S.err_server, retry);
    } else {
      el.remove();
      input.value = body.title ? "" : body.text;
      problem(fill(S.err_invalid, { reason: (data && data.detail) || res.status }), null);
    }
  } catch (err) {
    problem(S.err_network, retry);
  } finally {
    setPending(false);
    after();
  }
}

function send(text, title) {
  if (pending || ended || !text.trim()) return;
  const el = bubble({ direction: "in", text: title || text });
  el.classList.add("pending");
  log.appendChild(el);
  log.querySelectorAll(".buttons").forEach((row) => row.remove());
  const body = { text, client_id: newId() };
  if (title) body.title = title;
  deliver(body, el);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  if (!text.trim() || pending) return;
  input.value = "";
  send(text);
});

// -- the conversation so far, and the live connection -------------------------------------------
async function loadHistory() {
  try {
    const res = await fetch("/chat/api/history");
    if (res.status === 401) { endSession(S.err_session); return; }
    if (!res.ok) return;
    const data = await res.json();
    withAgent.hidden = !data.with_agent;
    for (const message of data.messages) show(message);
    after();
  } catch (err) { /* offline: the live connection retries and reloads the history */ }
}

function connect() {
  events = new EventSource("/chat/api/events");
  events.addEventListener("open", () => { status.textContent = ""; loadHistory(); });
  events.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (!shown.has(message.id)) noticeUnseen();
    show(message);
    after();
    if (message.author !== "bot") loadHistory();  // an agent took over or handed back: refresh the state
  });
  events.addEventListener("error", () => {
    if (ended) return;
    if (events.readyState === EventSource.CLOSED) {
      loadHistory();  // answers 401 when the session is gone
      setTimeout(() => { if (!ended) connect(); }, 3000);
    } else {
      status.textContent = S.reconnecting;
    }
  });
}

document.getElementById("end").addEventListener("click", async () => {
  if (!window.confirm(S.end_confirm)) return;
  try { await fetch("/chat/api/end", { method: "POST" }); } catch (err) { /* the cookie expires anyway */ }
  log.replaceChildren();
  shown.clear();
  endSession(S.ended);
});

// A message written by another app process never reaches this page's live connection: the history
// is read again now and then while the page is visible, so it still shows up.
setInterval(() => { if (document.visibilityState === "visible" && !ended && !pending) loadHistory(); }, 30000);
loadHistory().then(connect);
input.focus();
