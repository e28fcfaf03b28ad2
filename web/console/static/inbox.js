// The agents' inbox: the queue and the agent's own tickets, kept current
// from the inbox's event stream, and the ticket picked: its conversation,
// context pack and history, with the actions on it. Everything goes through
// /api/v1/inbox with the session cookie and its CSRF token; what customers
// and agents wrote is only ever set as text, never as HTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const root = document.getElementById("inbox");
const me = Number(root.dataset.userId);
const myLogin = root.dataset.login;
const $ = (id) => document.getElementById(id);

// The ticket kinds of the event stream that change the lists.
const ticketKinds = ["ticket_created", "ticket_assigned", "ticket_transferred", "ticket_resolved", "ticket_returned"];

// Handoff reasons in words (assistant/handoff.go).
const reasons = {
  person_requested: "asked for a person",
  intent_handoff_always: "topic always handed to a person",
  unclear_after_clarifying: "still unclear after clarifying",
  fallbacks_in_a_row: "not understood several times",
  tool_failed: "a tool failed",
  slot_unanswered: "did not answer a question",
  auto_reply: "automatic reply detected",
  policy_gate: "stopped by a policy",
};

const state = {
  queued: [], // tickets waiting, in queue order
  mine: [], // tickets assigned to me
  loadedAt: 0, // when the lists were loaded (Date.now())
  open: 0, // the id of the ticket shown
  detail: null, // its last GET /tickets/:id
  shownMessages: -1, // how many messages its transcript shows
};
const labels = new Map(); // ticket id → the customer's name, once known
const unread = new Set(); // my tickets with customer messages not yet seen

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": csrf };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch("/api/v1/inbox" + path, { method, headers, body, credentials: "same-origin" });
  } catch (err) {
    return { ok: false, status: 0, data: { error: "the server cannot be reached (" + err.message + ")" } };
  }
  let data;
  try {
    data = await resp.json();
  } catch {
    data = { error: `${resp.status} ${resp.statusText}` };
  }
  if (resp.status === 401) {
    // The session ended: sign in again and come back here.
    location.assign("/console/login?next=" + encodeURIComponent(location.pathname + location.hash));
  }
  return { ok: resp.ok, status: resp.status, data };
}

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// coalesce returns fn guarded so that calls while it runs lead to one more
// run after it, not to runs in parallel.
function coalesce(fn) {
  let running = null;
  let again = false;
  return async function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await fn();
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  };
}

function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const hm = { hour: "2-digit", minute: "2-digit" };
  return d.toDateString() === new Date().toDateString()
    ? d.toLocaleTimeString([], hm)
    : d.toLocaleString([], { day: "numeric", month: "short", ...hm });
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function percent(x) {
  return typeof x === "number" ? `${Math.round(x * 100)}%` : "";
}

function teamName(team) {
  return team || "default team";
}

function reasonText(r) {
  return reasons[r] || r || "handed off";
}

function mineOf(t) {
  return t.status === "assigned" && t.assignee_id === me;
}

// --- the lists -------------------------------------------------------------

const loadLists = coalesce(async () => {
  const team = $("team-filter").value;
  const [queued, mine] = await Promise.all([
    api("GET", "/tickets?status=queued" + (team ? "&team=" + encodeURIComponent(team) : "")),
    api("GET", "/tickets?status=assigned&mine=true"),
  ]);
  const error = $("queue-error");
  if (!queued.ok || !mine.ok) {
    error.textContent = "The tickets could not be loaded: " + (queued.ok ? mine : queued).data.error;
    error.hidden = false;
    return;
  }
  error.hidden = true;
  state.queued = queued.data.tickets;
  state.mine = mine.data.tickets;
  state.loadedAt = Date.now();
  renderLists();
  fillLabels();
});

function ticketItem(t, queued) {
  const wait = el("span", { className: "wait" });
  if (queued) wait.dataset.waiting = t.waiting_seconds || 0;
  else wait.textContent = "since " + clock(t.assigned_at);
  const link = el("a", { href: "#ticket-" + t.id },
    el("span", { className: "who", textContent: labels.get(t.id) || `Ticket #${t.id}` }),
    wait,
    el("span", { className: "why", textContent: reasonText(t.reason) + (t.priority > 0 ? ` · priority ${t.priority}` : "") }));
  const li = el("li", {}, link);
  li.dataset.id = t.id;
  li.classList.toggle("selected", t.id === state.open);
  li.classList.toggle("unread", unread.has(t.id));
  return li;
}

function renderLists() {
  const mine = $("mine");
  mine.querySelector(".tickets").replaceChildren(...state.mine.map((t) => ticketItem(t, false)));
  mine.querySelector(".count").textContent = state.mine.length ? `(${state.mine.length})` : "";
  mine.querySelector(".empty").hidden = state.mine.length > 0;

  const byTeam = new Map();
  for (const t of state.queued) {
    if (!byTeam.has(t.team)) byTeam.set(t.team, []);
    byTeam.get(t.team).push(t);
  }
  const queued = $("queued");
  const groups = [...byTeam].map(([team, ts]) => {
    const group = el("section", { className: "team" },
      el("h3", { textContent: `${teamName(team)} (${ts.length})` }),
      el("ul", { className: "tickets" }, ...ts.map((t) => ticketItem(t, true))));
    group.dataset.team = team;
    return group;
  });
  queued.querySelector(".teams").replaceChildren(...groups);
  queued.querySelector(".count").textContent = state.queued.length ? `(${state.queued.length})` : "";
  queued.querySelector(".empty").hidden = state.queued.length > 0;
  updateWaits();
}

// updateWaits advances the waiting times shown since the lists were loaded.
function updateWaits() {
  const since = (Date.now() - state.loadedAt) / 1000;
  for (const w of document.querySelectorAll("#queued .wait[data-waiting]")) {
    const s = Number(w.dataset.waiting) + since;
    w.textContent = "waiting " + duration(s);
    w.closest("li").classList.toggle("late", s >= 300);
  }
}

// fillLabels puts the customers' names on the tickets listed, a few at a
// time, remembering them: the list answers carry only the tickets.
const fillLabels = coalesce(async () => {
  const missing = [...state.mine, ...state.queued].map((t) => t.id).filter((id) => !labels.has(id)).slice(0, 25);
  for (const id of missing) {
    const { ok, data } = await api("GET", "/tickets/" + id);
    if (!ok) continue;
    setLabel(id, data.contact);
  }
});

function setLabel(id, contact) {
  const name = contact.name || "+" + contact.wa_id;
  labels.set(id, name);
  for (const who of document.querySelectorAll(`.tickets li[data-id="${id}"] .who`)) who.textContent = name;
}

function markSelected() {
  for (const li of document.querySelectorAll(".tickets li")) {
    li.classList.toggle("selected", Number(li.dataset.id) === state.open);
    li.classList.toggle("unread", unread.has(Number(li.dataset.id)));
  }
}

// --- the ticket --------------------------------------------------------------

function openTicket(id) {
  if (id !== state.open) {
    state.open = id;
    state.detail = null;
    state.shownMessages = -1;
    $("reply-form").reset(); // a draft for one customer never goes to another
    $("note-form").reset();
    $("transfer-form").reset();
    setStatus("");
    $("transcript").replaceChildren(el("li", { className: "day", textContent: "Loading…" }));
  }
  unread.delete(id);
  markSelected();
  $("no-ticket").hidden = true;
  $("ticket-view").hidden = false;
  return loadTicket();
}

const loadTicket = coalesce(async () => {
  const id = state.open;
  if (!id) return;
  const { ok, status, data } = await api("GET", "/tickets/" + id);
  if (id !== state.open) return; // another ticket was picked meanwhile
  if (!ok) {
    setStatus(status === 404 ? `Ticket #${id} does not exist, or is now in a team you are not in.` : data.error, "error");
    return;
  }
  state.detail = data;
  setLabel(id, data.contact);
  renderTicket(data);
});

function setStatus(text, kind) {
  const s = $("action-status");
  s.textContent = text;
  s.className = kind || "";
}

// assigneeOf finds who holds the ticket from its history.
function assigneeOf(events) {
  let who = "";
  for (const e of events) {
    const d = e.data || {};
    if (e.kind === "ticket_assigned") who = d.by || who;
    if (e.kind === "ticket_transferred") who = d.assignee || "";
  }
  return who;
}

function renderTicket(d) {
  const t = d.ticket;
  const contact = d.contact;
  const mine = mineOf(t);
  const open = t.status === "queued" || t.status === "assigned";
  const holder = t.assignee_id === me ? "you" : assigneeOf(d.events) || "another agent";

  $("ticket-title").textContent = `${contact.name || "+" + contact.wa_id} · #${t.id}`;
  const meta = [teamName(t.team)];
  if (t.status === "queued") meta.push(`waiting since ${clock(t.created_at)}`);
  else if (t.status === "assigned") meta.push(`assigned to ${holder} since ${clock(t.assigned_at)}`);
  else meta.push(`${t.status} at ${clock(t.closed_at)}`);
  $("ticket-meta").textContent = meta.join(" · ");
  root.dataset.status = t.status;

  $("claim").hidden = t.status !== "queued";
  $("resolve").hidden = !mine;
  $("return").hidden = !mine;
  $("transfer").hidden = !open;

  const form = $("reply-form");
  const reply = form.elements.text;
  const replyState = $("reply-state");
  form.hidden = !mine;
  reply.disabled = form.querySelector("button").disabled = mine && !d.window_open;
  replyState.classList.toggle("warn", mine && !d.window_open);
  showTemplates(mine && !d.window_open, t.pack && t.pack.language);
  if (mine && !d.window_open) {
    replyState.textContent = `The 24-hour window is closed: the customer last wrote ${clock(contact.last_inbound_at) || "long ago"}. ` +
      "WhatsApp now carries only an approved template: choose one below.";
  } else if (mine) {
    replyState.textContent = "Ctrl+Enter sends. The customer reads it on WhatsApp.";
  } else if (t.status === "queued") {
    replyState.textContent = "Claim the ticket to reply.";
  } else if (t.status === "assigned") {
    replyState.textContent = `Assigned to ${holder}: only they can reply.`;
  } else {
    replyState.textContent = t.status === "returned" ? "Returned to the bot, which answers the customer again." : "Resolved: the bot answers the customer again.";
  }

  renderTranscript(d.messages, d.events);
  renderPack(t.pack || {}, contact);
  renderConsents(d.consents || []);
  renderEvents(d.events);
}

function renderTranscript(messages, events) {
  const list = $("transcript");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
  const byAgent = new Map(); // message id → who replied
  for (const e of events) {
    if (e.kind !== "reply") continue;
    for (const id of (e.data || {}).message_ids || []) byAgent.set(id, e.user_id === me ? "you" : "agent");
  }
  const items = [];
  let day = "";
  for (const m of messages) {
    const at = m.sent_at || m.created_at;
    const d = new Date(at).toDateString();
    if (d !== day) {
      day = d;
      items.push(el("li", { className: "day", textContent: new Date(at).toLocaleDateString([], { weekday: "short", day: "numeric", month: "long" }) }));
    }
    const out = m.direction === "out";
    const meta = [clock(at)];
    if (out) {
      meta.unshift(byAgent.get(m.id) || "bot");
      if (m.status) meta.push(m.status);
    }
    const li = el("li", { className: "msg " + (out ? "out" : "in") },
      el("p", { className: "text", textContent: m.body || `[${m.type}]` }),
      el("small", { className: "meta", textContent: meta.join(" · ") + (m.error_text ? ` · ${m.error_text}` : "") }));
    if (m.status === "failed") li.classList.add("failed");
    if (byAgent.has(m.id)) li.classList.add("agent");
    li.dataset.id = m.id;
    items.push(li);
  }
  list.replaceChildren(...items);
  if (atBottom || messages.length !== state.shownMessages) list.scrollTop = list.scrollHeight;
  state.shownMessages = messages.length;
}

function none() {
  return el("li", { className: "empty", textContent: "none" });
}

function json(v) {
  return el("pre", { textContent: JSON.stringify(v, null, 2) });
}

function renderPack(p, contact) {
  $("pack-summary").textContent = p.summary || "No summary.";
  $("pack-reason").textContent = p.reason || "";
  $("pack-detail").textContent = p.detail || reasonText(p.reason);
  $("pack-language").textContent = p.language || "—";
  $("pack-intent").textContent = p.intent ? `${p.intent} ${percent(p.confidence)}` : "—";

  const history = (p.history || []).map((h) =>
    el("li", { textContent: (h.intent ? `${h.intent} ${percent(h.confidence)}` : "no intent") + (h.decision ? ` → ${h.decision}` : "") }));
  $("pack-history").replaceChildren(...(history.length ? history : [none()]));

  const slots = Object.entries(p.slots || {}).flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]);
  $("pack-slots").replaceChildren(...(slots.length ? slots : [el("dd", { className: "empty", textContent: "none" })]));

  const tools = (p.tools || []).map((c) => {
    const li = el("li", {},
      el("strong", { textContent: c.name }),
      ` ${c.status}` + (c.attempts > 1 ? `, ${c.attempts} attempts` : "") + (c.latency_ms ? `, ${Math.round(c.latency_ms)} ms` : ""));
    if (c.error) li.append(el("div", { className: "error", textContent: c.error }));
    if (c.args) li.append(el("div", { className: "hint", textContent: "arguments" }), json(c.args));
    if (c.agent || c.user) li.append(el("div", { className: "hint", textContent: "result" }), json(c.agent || c.user));
    return li;
  });
  $("pack-tools").replaceChildren(...(tools.length ? tools : [none()]));

  const sources = (p.sources || []).map((s) =>
    el("li", { textContent: `[${s.citation}] ${s.title}` + (s.section ? ` › ${s.section}` : "") + (s.fused ? ` · ${s.fused.toFixed(3)}` : "") }));
  $("pack-sources").replaceChildren(...(sources.length ? sources : [none()]));

  const profile = p.contact || {};
  $("contact-name").textContent = contact.name || profile.name || "—";
  $("contact-wa").textContent = "+" + contact.wa_id;
  $("contact-locale").textContent = contact.locale || profile.locale || "—";
  $("contact-first").textContent = clock(profile.first_seen || contact.created_at) || "—";
  const optOut = contact.marketing_opt_out;
  const marketing = $("contact-marketing");
  marketing.textContent = optOut ? "opted out: send no marketing" : "not opted out";
  marketing.className = optOut ? "optout" : "";
}

// renderConsents shows the customer's current consent per purpose: what
// they agreed to, how and to which policy version.
function renderConsents(consents) {
  const text = consents.map((k) =>
    `${k.purpose}: ${k.granted ? (k.source === "notice" ? "informed" : "given") : "refused"}` +
    (k.policy_version ? ` (policy ${k.policy_version})` : "") + ` · ${k.source}, ${clock(k.at)}`);
  $("contact-consent").textContent = text.length ? text.join("; ") : "none recorded";
}

function who(e) {
  const by = (e.data || {}).by;
  if (by) return by === myLogin ? "you" : by;
  if (e.user_id === me) return "you";
  return e.user_id ? "an agent" : "the assistant";
}

function eventText(e) {
  const d = e.data || {};
  switch (e.kind) {
    case "ticket_created":
      return `Handed off by the assistant: ${reasonText(d.reason)}` + (d.detail ? ` (${d.detail})` : "");
    case "ticket_assigned":
      return `Claimed by ${who(e)}`;
    case "ticket_transferred":
      return `Transferred by ${who(e)} from ${teamName(d.from_team)} to ${teamName(d.team)}` + (d.assignee ? `, to ${d.assignee}` : ", queued");
    case "reply":
      return `Reply by ${who(e)}` + (d.parts > 1 ? ` (${d.parts} messages)` : "");
    case "note":
      return `Note by ${who(e)}`;
    case "ticket_resolved":
      return `Resolved by ${who(e)}`;
    case "ticket_returned":
      return `Returned to the bot by ${who(e)}`;
    default:
      return e.kind;
  }
}

function renderEvents(events) {
  $("events").replaceChildren(...events.map((e) => {
    const li = el("li", { className: e.kind }, el("time", { dateTime: e.created_at, textContent: clock(e.created_at) }), eventText(e));
    if (e.kind === "note") li.append(el("p", { textContent: (e.data || {}).text }));
    return li;
  }));
}

// --- actions -----------------------------------------------------------------

// act posts an action on the ticket shown and reloads what it changes.
async function act(path, body, done) {
  const id = state.open;
  const buttons = document.querySelectorAll("#ticket-view button");
  buttons.forEach((b) => { b.disabled = true; });
  setStatus("…");
  const { ok, data } = await api("POST", `/tickets/${id}/${path}`, body);
  buttons.forEach((b) => { b.disabled = false; }); // renderTicket sets them again
  if (id === state.open) setStatus(ok ? done : data.error, ok ? "ok" : "error");
  await Promise.all([loadTicket(), loadLists()]);
  return ok;
}

$("claim").addEventListener("click", () => act("claim", undefined, "Claimed: the ticket is yours."));
$("resolve").addEventListener("click", () => act("resolve", undefined, "Resolved: the bot answers the customer's next message."));
$("return").addEventListener("click", () => act("return", undefined, "Returned to the bot."));

$("reply-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const text = form.elements.text.value.trim();
  if (!text) return;
  if (await act("reply", { text }, "Sent.")) form.reset();
});

// Approved templates: the one way to reach a customer whose 24-hour window
// has closed. The form shows one field per placeholder and a preview.
let templates = null;

async function showTemplates(show, language) {
  const form = $("template-form");
  form.hidden = !show;
  if (!show) return;
  if (templates === null) {
    const { ok, data } = await api("GET", "/templates");
    templates = ok ? data.templates : [];
  }
  const select = form.elements.template;
  const keep = select.value;
  select.replaceChildren(...templates.map((t, i) => {
    const o = el("option", { value: String(i), textContent: `${t.name} (${t.language}, ${t.category})` });
    if (t.language === language) o.selected = true;
    return o;
  }));
  if (keep && select.querySelector(`option[value="${keep}"]`)) select.value = keep;
  if (templates.length === 0) {
    $("template-preview").textContent = "No approved template is configured (whatsapp.templates).";
  }
  renderTemplateParams();
}

function chosenTemplate() {
  const i = Number($("template-form").elements.template.value);
  return templates && templates[i];
}

function renderTemplateParams() {
  const t = chosenTemplate();
  const box = $("template-params");
  box.replaceChildren();
  if (!t) return;
  for (let n = 1; n <= t.params; n++) {
    box.append(el("label", { textContent: `{{${n}}} ` },
      el("input", { name: `p${n}`, required: true, maxLength: 1024, oninput: previewTemplate })));
  }
  previewTemplate();
}

function previewTemplate() {
  const t = chosenTemplate();
  if (!t) return;
  const form = $("template-form");
  $("template-preview").textContent = t.body.replace(/\{\{(\d+)\}\}/g, (m, n) => {
    const input = form.elements[`p${n}`];
    return input && input.value.trim() ? input.value.trim() : m;
  });
}

$("template-form").elements.template.addEventListener("change", renderTemplateParams);

$("template-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const t = chosenTemplate();
  if (!t) return;
  const form = ev.target;
  const params = [];
  for (let n = 1; n <= t.params; n++) params.push(form.elements[`p${n}`].value.trim());
  if (await act("template", { name: t.name, language: t.language, params }, `Template ${t.name} sent.`)) renderTemplateParams();
});

$("note-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const text = form.elements.text.value.trim();
  if (!text) return;
  if (await act("notes", { text }, "Note added.")) form.reset();
});

$("transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const team = form.elements.team.value.trim();
  const assignee = form.elements.assignee.value.trim().toLowerCase();
  const to = teamName(team) + (assignee ? `, to ${assignee}` : "");
  if (await act("transfer", { team, assignee }, `Transferred to ${to}.`)) {
    form.reset();
    $("transfer").open = false;
  }
});

// Ctrl+Enter (⌘+Enter) sends a reply or a note.
for (const form of [$("reply-form"), $("note-form")]) {
  form.elements.text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
}

$("team-filter").addEventListener("change", () => loadLists());

function fromHash() {
  const m = location.hash.match(/^#ticket-(\d+)$/);
  if (m) openTicket(Number(m[1]));
}
window.addEventListener("hashchange", fromHash);

// --- live updates ------------------------------------------------------------

function setLive(s) {
  const live = $("live");
  live.dataset.state = s;
  live.textContent = { live: "live", reconnecting: "reconnecting…", offline: "offline: retrying", connecting: "connecting…" }[s];
}

function reloadAll() {
  loadLists();
  if (state.open) loadTicket();
}

function onEvent(ev) {
  let e;
  try {
    e = JSON.parse(ev.data);
  } catch {
    return;
  }
  if (ticketKinds.includes(ev.type) || ev.type === "message") loadLists();
  if (ev.type === "message" && e.ticket_id !== state.open && (e.data || {}).direction === "in") {
    unread.add(e.ticket_id);
    markSelected();
  }
  if (e.ticket_id && e.ticket_id === state.open) loadTicket();
}

function connect() {
  setLive("connecting");
  const stream = new EventSource("/api/v1/inbox/events");
  // ready comes first on every (re)connection: what happened while the
  // stream was down is only in the API, so everything is reloaded.
  stream.addEventListener("ready", () => {
    setLive("live");
    reloadAll();
  });
  stream.addEventListener("resync", reloadAll);
  for (const kind of [...ticketKinds, "message", "note", "status"]) stream.addEventListener(kind, onEvent);
  stream.addEventListener("error", () => {
    if (stream.readyState !== EventSource.CLOSED) {
      setLive("reconnecting"); // the browser retries by itself
      return;
    }
    // Refused (the session ended, the server restarted into a 503): the
    // browser gives up, so try again later; the reload signs in again if
    // need be.
    setLive("offline");
    setTimeout(() => {
      reloadAll();
      connect();
    }, 5000);
  });
}

setInterval(updateWaits, 10000);
loadLists();
fromHash();
connect();
