// The admins' campaigns page: make a campaign from an approved template for
// a segment (start it now, schedule it, or keep it as a draft), list the
// campaigns, and watch the one picked: its counts polled every 2 seconds
// while it runs and drawn as charts over the time the page watched, with
// the buttons that move it. Everything goes through /api/v1 with the
// session cookie and its CSRF token; what comes from the store is only ever
// set as text, never as HTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const root = document.getElementById("campaigns");
const $ = (id) => document.getElementById(id);
const form = $("campaign-form");

// How often the picked campaign is polled: while it runs or its messages
// are on their way, and while some delivered ones are not read yet.
const fastPoll = 2000;
const slowPoll = 10000;
// The most samples a chart keeps (an hour at the fast pace).
const maxSamples = 1800;

// The sources of a placeholder's value (store.ParamSources).
const sources = [
  ["name", "the contact's name"],
  ["phone", "the contact's phone number"],
  ["language", "the contact's language"],
  ["attr", "an attribute of the contact"],
  ["text", "the same text for everyone"],
];

const skipReasons = {
  opted_out: "stopped marketing messages",
  no_consent: "no marketing consent",
  invalid_params: "a placeholder had no value",
  no_address: "no phone number",
};

// The series of the charts: the counts, and the rates.
const countSeries = [
  ["queued", "Queued"],
  ["sent", "Sent"],
  ["delivered", "Delivered"],
  ["read", "Read"],
  ["failed", "Failed"],
];
const rateSeries = [
  ["delivery_rate", "Delivery rate"],
  ["read_rate", "Read rate"],
];

const state = {
  templates: [],
  segments: [],
  open: 0, // the id of the campaign shown
  samples: [], // {t, stats} taken while it is shown
  timer: 0,
  refreshes: 0, // refresh calls so far: only the latest one polls on
  status: "", // the shown campaign's status, to notice changes
  recipientsAfter: 0, // next_after of the recipients shown; 0 at the end
  recipientPages: 0,
};

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": csrf };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch("/api/v1" + path, { method, headers, body, credentials: "same-origin" });
  } catch (err) {
    return { ok: false, status: 0, data: { error: "the server cannot be reached (" + err.message + ")" } };
  }
  if (resp.status === 401) {
    location.assign("/console/login?next=" + encodeURIComponent(location.pathname + location.hash));
  }
  let data = null;
  if (resp.status !== 204) {
    try {
      data = await resp.json();
    } catch {
      data = { error: `${resp.status} ${resp.statusText}` };
    }
  }
  return { ok: resp.ok, status: resp.status, data };
}

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function say(id, text, ok) {
  const p = $(id);
  p.textContent = text;
  p.className = ok === undefined ? "" : ok ? "ok" : "error";
}

function when(iso, timeZone) {
  if (!iso) return "";
  const opts = { dateStyle: "medium", timeStyle: "short" };
  if (timeZone) opts.timeZone = timeZone;
  try {
    return new Date(iso).toLocaleString([], opts);
  } catch {
    return new Date(iso).toLocaleString();
  }
}

function percent(x) {
  return typeof x === "number" ? `${Math.round(x * 1000) / 10}%` : "–";
}

// --- the form -------------------------------------------------------------

async function loadTemplates() {
  const select = $("template");
  const { ok, data } = await api("GET", "/campaigns/templates");
  if (!ok) {
    select.replaceChildren(el("option", { value: "", textContent: "templates unavailable: " + data.error }));
    return;
  }
  state.templates = data.templates;
  const options = data.templates.map((t, i) =>
    el("option", { value: String(i), textContent: `${t.name} (${t.language}) · ${t.category}` }));
  const first = el("option", {
    value: "",
    textContent: options.length ? "pick an approved template" : "no approved template is configured (whatsapp.templates)",
  });
  select.replaceChildren(first, ...options);
  showTemplate();
}

function chosenTemplate() {
  const v = $("template").value;
  return v === "" ? null : state.templates[Number(v)];
}

// showTemplate shows the body of the template picked, with a row per
// placeholder to say where its value comes from.
function showTemplate() {
  const t = chosenTemplate();
  $("template-view").hidden = !t;
  $("params").hidden = !t || t.params === 0;
  if (!t) {
    $("param-rows").replaceChildren();
    return;
  }
  $("template-category").textContent = t.category;
  $("template-language").textContent = "language " + t.language;
  const rows = [];
  for (let n = 1; n <= t.params; n++) rows.push(paramRow(n));
  $("param-rows").replaceChildren(...rows);
  renderBody();
}

function paramRow(n) {
  const source = el("select", { name: "source" },
    ...sources.map(([v, label]) => el("option", { value: v, textContent: label })));
  const attribute = el("input", { name: "attribute", placeholder: "city" });
  const fallback = el("input", { name: "default", placeholder: "when the contact has none" });
  const attrLabel = el("label", { className: "attr" }, "Attribute ", attribute);
  const defaultLabel = el("label", {}, el("span", { className: "default-label", textContent: "Default " }), fallback);
  const row = el("div", { className: "param" },
    el("span", { className: "ph", textContent: `{{${n}}}` }),
    el("label", {}, "Source ", source), attrLabel, defaultLabel);
  row.dataset.n = n;
  const update = () => {
    attrLabel.hidden = source.value !== "attr";
    attribute.required = source.value === "attr";
    fallback.required = source.value === "text";
    defaultLabel.querySelector(".default-label").textContent = source.value === "text" ? "Text " : "Default ";
    fallback.placeholder = source.value === "text" ? "the same for everyone" : "when the contact has none";
    renderBody();
  };
  source.addEventListener("change", update);
  attribute.addEventListener("input", renderBody);
  fallback.addEventListener("input", renderBody);
  update();
  return row;
}

function params() {
  return [...document.querySelectorAll("#param-rows .param")].map((row) => {
    const p = { source: row.querySelector('[name="source"]').value };
    const attribute = row.querySelector('[name="attribute"]').value.trim();
    const fallback = row.querySelector('[name="default"]').value;
    if (p.source === "attr") p.attribute = attribute;
    if (fallback.trim() !== "") p.default = fallback;
    return p;
  });
}

// describeParam says in a few words what fills a placeholder.
function describeParam(p) {
  if (p.source === "text") return p.default || "text";
  const what = p.source === "attr" ? p.attribute || "attribute" : p.source;
  return p.default ? `${what}, else “${p.default}”` : what;
}

// renderBody shows the template's body with each placeholder marked and
// named by what fills it.
function renderBody() {
  const t = chosenTemplate();
  if (!t) return;
  const ps = params();
  const parts = [];
  let last = 0;
  for (const m of t.body.matchAll(/\{\{(\d+)\}\}/g)) {
    parts.push(t.body.slice(last, m.index));
    const p = ps[Number(m[1]) - 1];
    const mark = el("mark", { className: "ph", textContent: p ? `{{${m[1]}}} ${describeParam(p)}` : m[0] });
    parts.push(mark);
    last = m.index + m[0].length;
  }
  parts.push(t.body.slice(last));
  $("template-body").replaceChildren(...parts);
}

async function loadSegments() {
  const select = $("segment");
  const { ok, data } = await api("GET", "/segments");
  if (!ok) {
    select.replaceChildren(el("option", { value: "", textContent: "segments unavailable: " + data.error }));
    return;
  }
  state.segments = data.segments;
  const options = data.segments.map((s) => el("option", { value: s.name, textContent: `${s.name} (${s.count})` }));
  const first = el("option", {
    value: "",
    textContent: options.length ? "pick a segment" : "no segment yet (yanit segments put)",
  });
  select.replaceChildren(first, ...options);
  previewSegment();
}

// describeFilter says who a segment's filter keeps.
function describeFilter(f) {
  const parts = [];
  if (f.tags && f.tags.length) parts.push("tags " + f.tags.join(" and "));
  if (f.any_tags && f.any_tags.length) parts.push("any of " + f.any_tags.join(", "));
  for (const [k, v] of Object.entries(f.attributes || {})) parts.push(`${k} = ${v}`);
  if (f.consent) parts.push("marketing allowed");
  if (f.active_within_days) parts.push(`wrote within ${f.active_within_days} days`);
  if (f.inactive_for_days) parts.push(`silent for ${f.inactive_for_days} days`);
  if (f.locale) parts.push("language " + f.locale);
  return parts.length ? "(" + parts.join(", ") + ")" : "(every contact)";
}

let previewing = 0;
async function previewSegment() {
  const name = $("segment").value;
  const view = $("segment-view");
  if (!name) {
    view.hidden = true;
    return;
  }
  const call = ++previewing;
  const { ok, data } = await api("GET", `/segments/${encodeURIComponent(name)}/preview?sample=5`);
  if (call !== previewing) return; // another segment was picked meanwhile
  view.hidden = false;
  const body = $("segment-sample").querySelector("tbody");
  if (!ok) {
    $("segment-count").textContent = "";
    $("segment-count-label").textContent = "";
    $("segment-filter").textContent = data.error;
    body.replaceChildren();
    return;
  }
  $("segment-count").textContent = String(data.count);
  $("segment-count-label").textContent = data.count === 1 ? "contact now" : "contacts now";
  $("segment-filter").textContent = describeFilter(data.filter);
  body.replaceChildren(...data.sample.map((c) => el("tr", {},
    el("td", { textContent: c.phone || "–" }),
    el("td", { textContent: c.locale || "–" }),
    el("td", {}, ...c.tags.map((t) => el("span", { className: "tag", textContent: t }))),
    el("td", { textContent: c.marketing_opt_out ? "opted out" : "allowed" }),
    el("td", { textContent: c.last_inbound_at ? when(c.last_inbound_at) : "never" }))));
  $("segment-sample").hidden = data.sample.length === 0;
}

function chosenWhen() {
  return form.querySelector('input[name="when"]:checked').value;
}

function showWhen() {
  const w = chosenWhen();
  $("schedule-fields").hidden = w !== "schedule";
  form.elements.date.required = w === "schedule";
  form.elements.time.required = w === "schedule";
  form.elements.time_zone.required = w === "schedule";
  $("create").textContent = { now: "Create and start", schedule: "Create and schedule", draft: "Save the draft" }[w];
}

// fillTimeZones offers the browser's IANA time zones for a schedule, and a
// default date: tomorrow.
function fillTimeZones() {
  if (typeof Intl.supportedValuesOf === "function") {
    const have = new Set([...$("time-zones").options].map((o) => o.value));
    const more = Intl.supportedValuesOf("timeZone").filter((z) => !have.has(z));
    $("time-zones").append(...more.map((z) => el("option", { value: z })));
  }
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  form.elements.date.value = `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}`;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const t = chosenTemplate();
  if (!t) return;
  const w = chosenWhen();
  const body = {
    name: form.elements.name.value.trim(),
    template: t.name,
    language: t.language,
    segment: $("segment").value,
    params: params(),
  };
  if (w === "schedule") {
    body.scheduled_at = `${form.elements.date.value}T${form.elements.time.value}`;
    body.time_zone = form.elements.time_zone.value.trim();
  }
  const button = $("create");
  button.disabled = true;
  say("create-status", "Creating…");
  try {
    const made = await api("POST", "/campaigns", body);
    if (!made.ok) {
      say("create-status", made.data.error, false);
      return;
    }
    let c = made.data.campaign;
    if (w === "now") {
      const started = await api("POST", `/campaigns/${c.id}/start`);
      if (!started.ok) {
        say("create-status", `Created “${c.name}” as a draft, but it did not start: ${started.data.error}`, false);
        await loadList();
        openCampaign(c.id);
        return;
      }
      c = started.data.campaign;
    }
    say("create-status", `“${c.name}” is ${c.status}.`, true);
    form.elements.name.value = "";
    await loadList();
    openCampaign(c.id);
  } finally {
    button.disabled = false;
  }
});

// --- the list ---------------------------------------------------------------

function stateBadge(status) {
  return el("span", { className: "state state-" + status, textContent: status });
}

async function loadList() {
  const { ok, data } = await api("GET", "/campaigns");
  if (!ok) {
    $("list-error").textContent = "The campaigns could not be loaded: " + data.error;
    $("list-error").hidden = false;
    return;
  }
  $("list-error").hidden = true;
  const rows = data.campaigns.map((c) => {
    const link = el("a", { href: "#campaign-" + c.id, textContent: c.name });
    const tr = el("tr", {},
      el("td", {}, link),
      el("td", { textContent: `${c.template} (${c.language})` }),
      el("td", { textContent: c.segment }),
      el("td", {}, stateBadge(c.status)),
      el("td", { className: "num", textContent: String(c.stats.recipients) }),
      el("td", { className: "num", textContent: String(c.stats.delivered) }),
      el("td", { className: "num", textContent: String(c.stats.read) }),
      el("td", { textContent: when(c.created_at) }));
    tr.dataset.id = c.id;
    tr.classList.toggle("selected", c.id === state.open);
    return tr;
  });
  $("campaign-table").querySelector("tbody").replaceChildren(...rows);
  $("campaign-table").hidden = rows.length === 0;
  $("no-campaigns").hidden = rows.length > 0;
}

// updateRow shows the counts just read in the campaign's row of the list.
function updateRow(c, stats) {
  const tr = document.querySelector(`#campaign-table tbody tr[data-id="${c.id}"]`);
  if (!tr) return;
  const cells = tr.children;
  cells[3].replaceChildren(stateBadge(c.status));
  cells[4].textContent = String(stats.recipients);
  cells[5].textContent = String(stats.delivered);
  cells[6].textContent = String(stats.read);
}

// --- the campaign picked ------------------------------------------------------

function openCampaign(id) {
  if (location.hash !== "#campaign-" + id) {
    location.hash = "#campaign-" + id; // hashchange opens it
    return;
  }
  clearTimeout(state.timer);
  state.open = id;
  state.samples = [];
  state.status = "";
  state.recipientPages = 0;
  for (const tr of document.querySelectorAll("#campaign-table tbody tr")) {
    tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  }
  $("campaign-view").hidden = false;
  say("action-status", "");
  refresh();
}

window.addEventListener("hashchange", () => {
  const m = /^#campaign-(\d+)$/.exec(location.hash);
  if (m) openCampaign(Number(m[1]));
});

async function refresh() {
  const id = state.open;
  const call = ++state.refreshes;
  clearTimeout(state.timer);
  const { ok, status, data } = await api("GET", `/campaigns/${id}`);
  // Another campaign was opened, or a newer refresh started (after an
  // action): that one goes on polling.
  if (id !== state.open || call !== state.refreshes) return;
  if (!ok) {
    $("live").textContent = "The campaign could not be loaded: " + data.error;
    if (status !== 404) state.timer = setTimeout(refresh, slowPoll);
    return;
  }
  const { campaign: c, stats } = data;
  const changed = state.status !== "" && state.status !== c.status;
  state.status = c.status;
  state.samples.push({ t: Date.now(), stats });
  if (state.samples.length > maxSamples) state.samples.shift();
  renderCampaign(c);
  renderStats(stats);
  drawCharts(stats);
  if (state.recipientPages <= 1) loadRecipients(false);
  if (changed) loadList();
  else updateRow(c, stats);

  const inFlight = c.status === "running" || stats.queued > stats.delivered + stats.failed;
  const unread = stats.delivered > stats.read;
  let next = 0;
  if (inFlight) next = fastPoll;
  else if (unread || c.status === "scheduled") next = slowPoll;
  $("live").textContent = next === fastPoll ? "Live: updated every 2 seconds." :
    next ? "Updated every 10 seconds." : "Final counts.";
  $("live").dataset.state = next === fastPoll ? "live" : next ? "slow" : "final";
  if (next) state.timer = setTimeout(refresh, next);
}

function renderCampaign(c) {
  $("campaign-title").textContent = c.name;
  const meta = [`${c.template} (${c.language}, ${c.category})`, "to " + c.segment, "from " + c.number];
  if (c.status === "scheduled" && c.scheduled_at) meta.push(`starts ${when(c.scheduled_at, c.time_zone)} ${c.time_zone}`);
  if (c.started_at) meta.push("started " + when(c.started_at));
  if (c.finished_at) meta.push("ended " + when(c.finished_at));
  meta.push("by " + c.created_by);
  $("campaign-meta").textContent = meta.join(" · ");
  const badge = $("campaign-status");
  badge.textContent = c.status;
  badge.className = "state state-" + c.status;
  badge.dataset.status = c.status;
  $("start").hidden = !["draft", "scheduled"].includes(c.status);
  $("pause").hidden = c.status !== "running";
  $("resume").hidden = c.status !== "paused";
  $("cancel").hidden = !["draft", "scheduled", "running", "paused"].includes(c.status);
  $("delete").hidden = !["draft", "scheduled"].includes(c.status);
  // Nothing to draw before the campaign first runs.
  document.querySelector("#campaign-view .charts").hidden = !c.started_at;
}

function renderStats(s) {
  const counts = {
    recipients: s.recipients, pending: s.pending, skipped: s.skipped, queued: s.queued, sent: s.sent,
    delivered: s.delivered, read: s.read, failed: s.failed, replied: s.replied, "opted-out": s.opted_out_after,
  };
  for (const [k, v] of Object.entries(counts)) $("count-" + k).textContent = String(v);
  $("delivery-rate").textContent = percent(s.delivery_rate);
  $("read-rate").textContent = percent(s.read_rate);
  const skipped = Object.entries(s.skipped_by).filter(([, n]) => n > 0);
  $("skipped-by").replaceChildren(...(skipped.length ? skipped.map(([r, n]) =>
    el("li", { textContent: `${n} · ${skipReasons[r] || r}` })) : [el("li", { className: "empty", textContent: "none" })]));
  const failed = Object.entries(s.failed_by);
  $("failed-by").replaceChildren(...(failed.length ? failed.map(([code, n]) =>
    el("li", { textContent: `${n} · error ${code}` })) : [el("li", { className: "empty", textContent: "none" })]));
}

// --- the charts ---------------------------------------------------------------

const svgNS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function elapsed(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// drawChart draws, in the SVG element target, a line per series of the
// samples over the time they were taken, from 0 to top on the y axis, its
// ticks labelled by label.
function drawChart(target, series, top, label) {
  const width = 640;
  const height = 220;
  const m = { left: 48, right: 14, top: 10, bottom: 26 };
  const samples = state.samples;
  const t0 = samples[0].t;
  const span = Math.max(samples[samples.length - 1].t - t0, 1000);
  const x = (t) => m.left + ((t - t0) / span) * (width - m.left - m.right);
  const y = (v) => height - m.bottom - (v / top) * (height - m.top - m.bottom);
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    parts.push(svg("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
    parts.push(svg("text", { class: "axis-label", x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, label(v)));
  }
  parts.push(svg("text", { class: "axis-label", x: m.left, y: height - 6 }, "0 s"));
  parts.push(svg("text", { class: "axis-label", x: width - m.right, y: height - 6, "text-anchor": "end" },
    samples.length > 1 ? elapsed(span) : "now"));
  for (const [key] of series) {
    const points = samples.filter((s) => typeof s.stats[key] === "number").map((s) => [x(s.t), y(s.stats[key])]);
    if (points.length === 0) continue;
    if (points.length > 1) {
      parts.push(svg("polyline", {
        class: "line series-" + key,
        points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "),
      }));
    }
    const [lx, ly] = points[points.length - 1];
    const dot = svg("circle", { class: "dot series-" + key, cx: lx.toFixed(1), cy: ly.toFixed(1), r: 3.5 });
    dot.dataset.series = key;
    parts.push(dot);
  }
  target.replaceChildren(...parts);
  target.dataset.samples = samples.length;
}

function legend(target, series, stats, format) {
  target.replaceChildren(...series.map(([key, name]) => el("li", {},
    el("span", { className: "swatch series-" + key }),
    `${name} ${format(stats[key])}`)));
}

function drawCharts(stats) {
  const most = Math.max(1, stats.recipients, ...state.samples.map((s) => s.stats.queued));
  const top = niceTop(most);
  drawChart($("chart-counts"), countSeries, top, (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)));
  legend($("legend-counts"), countSeries, stats, (v) => String(v));
  drawChart($("chart-rates"), rateSeries, 1, (v) => `${Math.round(v * 100)}%`);
  legend($("legend-rates"), rateSeries, stats, percent);
}

// niceTop is the top of an axis of counts up to n with four round steps
// between gridlines: 4, 8, 20, 40, 100, 200, 400, 1000, ...
function niceTop(n) {
  const quarter = Math.max(1, n / 4);
  const power = Math.pow(10, Math.floor(Math.log10(quarter)));
  for (const f of [1, 2, 5, 10]) if (f * power >= quarter) return 4 * f * power;
  return 40 * power;
}

// --- recipients -----------------------------------------------------------------

async function loadRecipients(more) {
  const id = state.open;
  const after = more ? state.recipientsAfter : 0;
  const { ok, data } = await api("GET", `/campaigns/${id}/recipients?limit=50&after=${after}`);
  if (id !== state.open || !ok) return;
  const rows = data.recipients.map((r) => el("tr", {},
    el("td", { textContent: "#" + r.contact_id }),
    el("td", { textContent: r.phone || "–" }),
    el("td", { textContent: r.status === "skipped" ? `skipped: ${skipReasons[r.skip_reason] || r.skip_reason}` : r.status }),
    el("td", { textContent: r.message_status ? r.message_status + (r.error_code ? ` (error ${r.error_code})` : "") : "" }),
    el("td", { textContent: when(r.queued_at) })));
  const body = $("recipients").querySelector("tbody");
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  state.recipientPages = more ? state.recipientPages + 1 : 1;
  state.recipientsAfter = data.next_after || 0;
  $("more-recipients").hidden = !data.next_after;
  $("no-recipients").hidden = body.children.length > 0;
  $("recipients").hidden = body.children.length === 0;
}

// --- the actions ------------------------------------------------------------------

async function act(verb) {
  const id = state.open;
  const name = $("campaign-title").textContent;
  if (verb === "cancel" && !confirm(`Cancel “${name}” for good? Recipients not yet queued get nothing.`)) return;
  if (verb === "delete" && !confirm(`Delete “${name}”?`)) return;
  const buttons = document.querySelectorAll(".campaign-head .actions button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    const r = verb === "delete" ? await api("DELETE", `/campaigns/${id}`) : await api("POST", `/campaigns/${id}/${verb}`);
    if (!r.ok) {
      say("action-status", r.data.error, false);
      refresh();
      return;
    }
    if (verb === "delete") {
      $("campaign-view").hidden = true;
      state.open = 0;
      clearTimeout(state.timer);
      history.replaceState(null, "", location.pathname);
      say("create-status", `“${name}” was deleted.`, true);
    } else {
      say("action-status", `“${name}” is ${r.data.campaign.status}.`, true);
      refresh();
    }
    loadList();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

for (const verb of ["start", "pause", "resume", "cancel", "delete"]) {
  $(verb).addEventListener("click", () => act(verb));
}
$("more-recipients").addEventListener("click", () => loadRecipients(true));
$("template").addEventListener("change", showTemplate);
$("segment").addEventListener("change", previewSegment);
for (const r of form.querySelectorAll('input[name="when"]')) r.addEventListener("change", showWhen);

// --- start ---------------------------------------------------------------------------

fillTimeZones();
showWhen();
loadTemplates();
loadSegments();
loadList().then(() => {
  const m = /^#campaign-(\d+)$/.exec(location.hash);
  if (m) openCampaign(Number(m[1]));
});
root.dataset.ready = "true";
