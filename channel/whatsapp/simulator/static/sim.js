// WhatsApp simulator page: plain JS, no build step, no dependencies.
// The page follows one chat over Server-Sent Events (/sim/api/events) and
// turns what the person does into JSON requests that the simulator sends to
// yanit as signed webhooks. Messages arrive in the Cloud API's own JSON:
// business messages as the Graph API request body ("request"), user
// messages as the webhook message ("message").
"use strict";
(() => {
  const API = "/sim/api";
  const STORAGE_KEY = "yanit-sim-user";
  const BUSINESS_TICKS = { accepted: "\u{1F553}", sent: "\u2713", delivered: "\u2713\u2713", read: "\u2713\u2713" };
  const MEDIA_ICONS = { image: "\u{1F5BC}", video: "\u{1F3AC}", audio: "\u{1F3B5}", document: "\u{1F4C4}", sticker: "\u{1F49F}" };

  const state = {
    phone: "",
    name: "",
    messages: new Map(), // wamid → message
    nodes: new Map(), // wamid → its row element
    source: null,
    typingTimer: 0,
    seen: new Set(), // business messages displayed, not yet reported
    seenTimer: 0,
    sheetFor: "", // wamid of the list whose sheet is open
  };

  const byTestID = (id) => document.querySelector(`[data-testid="${id}"]`);
  const ui = {
    form: byTestID("user-form"),
    name: byTestID("name-input"),
    phone: byTestID("phone-input"),
    formError: byTestID("form-error"),
    users: byTestID("user-list"),
    chat: byTestID("chat"),
    empty: byTestID("empty"),
    avatar: byTestID("chat-avatar"),
    chatName: byTestID("chat-name"),
    chatSub: byTestID("chat-sub"),
    messages: byTestID("messages"),
    typing: byTestID("typing"),
    composerForm: byTestID("composer-form"),
    composer: byTestID("composer"),
    error: byTestID("error"),
    sheet: byTestID("list-sheet"),
    sheetTitle: byTestID("list-title"),
    sheetBody: byTestID("list-sections"),
    sheetClose: byTestID("list-close"),
  };

  // el builds an element: props are attributes, except class, testid, text,
  // html (already escaped), on* listeners and boolean disabled.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "testid") e.dataset.testid = v;
      else if (k === "text") e.textContent = v;
      else if (k === "html") e.innerHTML = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "disabled") e.disabled = true;
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c !== null && c !== undefined && c !== false) e.append(c);
    }
    return e;
  }

  // --- WhatsApp formatting ---------------------------------------------------

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // formatWhatsApp renders *bold*, _italic_, ~strike~, `code`, ```mono```
  // and line breaks; everything else is escaped text.
  function formatWhatsApp(text) {
    let h = escapeHTML(text || "");
    const blocks = [];
    h = h.replace(/```([\s\S]+?)```/g, (_, code) => {
      blocks.push(code);
      return `\u0000${blocks.length - 1}\u0000`;
    });
    const wrap = (mark, tag) => {
      const m = "\\" + mark;
      const re = new RegExp(`(^|[\\s(>])${m}(?=\\S)([^\\n]*?\\S)${m}(?=$|[\\s.,!?:;)<])`, "gm");
      h = h.replace(re, `$1<${tag}>$2</${tag}>`);
    };
    wrap("*", "strong");
    wrap("_", "em");
    wrap("~", "del");
    h = h.replace(/`([^`\n]+)`/g, "<code>$1</code>");
    h = h.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code class="mono">${blocks[Number(i)]}</code>`);
    return h.replace(/\n/g, "<br>");
  }

  // --- server ------------------------------------------------------------------

  async function api(method, path, body) {
    const res = await fetch(API + path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try {
        msg = (await res.json()).error || msg;
      } catch (_) {
        // not JSON: keep the status
      }
      throw new Error(msg);
    }
    return res.status === 204 ? null : res.json();
  }

  function showError(err) {
    ui.error.textContent = String((err && err.message) || err);
    ui.error.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => { ui.error.hidden = true; }, 6000);
  }

  // act makes the current user do something: type "text" with text, or
  // "button_reply" / "list_reply" / "button" answering context_id with id.
  async function act(body) {
    if (!state.phone) return;
    try {
      await api("POST", `/users/${encodeURIComponent(state.phone)}/messages`, { name: state.name, ...body });
    } catch (err) {
      showError(err);
      throw err;
    }
  }

  function connect(phone) {
    if (state.source) state.source.close();
    const src = new EventSource(`${API}/events${phone ? "?phone=" + encodeURIComponent(phone) : ""}`);
    src.addEventListener("users", (e) => renderUsers(JSON.parse(e.data)));
    src.addEventListener("reset", (e) => {
      state.messages.clear();
      state.nodes.clear();
      ui.messages.replaceChildren();
      for (const m of JSON.parse(e.data)) upsert(m);
    });
    src.addEventListener("message", (e) => upsert(JSON.parse(e.data)));
    src.addEventListener("typing", (e) => setTyping(JSON.parse(e.data).ms));
    state.source = src;
  }

  // --- seen: the page reports what it displayed, which makes it read ---------

  function noteSeen(id) {
    state.seen.add(id);
    clearTimeout(state.seenTimer);
    state.seenTimer = setTimeout(flushSeen, 100);
  }

  async function flushSeen() {
    if (!state.phone || state.seen.size === 0 || document.visibilityState === "hidden") return;
    const ids = [...state.seen];
    state.seen.clear();
    try {
      await api("POST", `/users/${encodeURIComponent(state.phone)}/seen`, { ids });
    } catch (_) {
      for (const id of ids) state.seen.add(id); // tried again at the next update
    }
  }

  document.addEventListener("visibilitychange", flushSeen);

  // --- users ---------------------------------------------------------------------

  function displayName(name, phone) {
    return name && name !== phone ? name : `+${phone}`;
  }

  function initials(name) {
    const words = String(name || "").trim().split(/\s+/).filter((w) => /^\p{L}/u.test(w));
    return words.slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "#";
  }

  function renderUsers(list) {
    ui.users.replaceChildren(...list.map((u) => el("li", {
      testid: "user-item",
      "data-phone": u.phone,
      class: u.phone === state.phone ? "active" : "",
      onclick: () => openChat(u.phone, u.name === u.phone ? "" : u.name),
    },
    el("div", { class: "avatar", text: initials(u.name === u.phone ? "" : u.name) }),
    el("div", {},
      el("div", { class: "u-name", text: displayName(u.name, u.phone) }),
      el("div", { class: "u-phone", text: `+${u.phone}` })))));
  }

  function openChat(phone, name) {
    state.phone = phone;
    state.name = name || "";
    state.messages.clear();
    state.nodes.clear();
    state.seen.clear();
    ui.messages.replaceChildren();
    ui.chat.hidden = false;
    ui.empty.hidden = true;
    ui.chatName.textContent = displayName(name, phone);
    ui.avatar.textContent = initials(name);
    closeSheet();
    setTyping(0);
    for (const li of ui.users.children) li.classList.toggle("active", li.dataset.phone === phone);
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ phone, name }));
    } catch (_) {
      // storage disabled: the chat is just not restored on reload
    }
    connect(phone);
    ui.composer.focus();
  }

  // --- messages --------------------------------------------------------------------

  // upsert shows a new message, or updates a known one: a status change only
  // touches its ticks, so that nodes under the pointer stay in place; a new
  // answer (a tap) renders the message again.
  function upsert(m) {
    const prev = state.messages.get(m.id);
    state.messages.set(m.id, m);
    const old = state.nodes.get(m.id);
    if (old && prev && prev.answer === m.answer) {
      fillTicks(old.querySelector('[data-testid="ticks"]'), m);
    } else {
      const node = renderMessage(m);
      if (old) old.replaceWith(node);
      else ui.messages.append(node);
      state.nodes.set(m.id, node);
    }
    if (m.direction === "business") {
      if (!prev) setTyping(0); // the reply dismisses the typing indicator
      if (m.status !== "read") noteSeen(m.id);
      if (state.sheetFor === m.id && (!prev || prev.answer !== m.answer)) renderSheet(m);
    }
    if (!prev) ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function setTyping(ms) {
    clearTimeout(state.typingTimer);
    const on = ms > 0;
    ui.typing.hidden = !on;
    ui.chatSub.textContent = on ? "typing\u2026" : (state.phone ? `+${state.phone}` : "");
    ui.chatSub.classList.toggle("typing-now", on);
    if (on) {
      state.typingTimer = setTimeout(() => setTyping(0), ms);
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }

  function clock(t) {
    const d = new Date(t);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // summary is a one-line text of a message, for quotes.
  function summary(m) {
    if (m.direction === "business") {
      const r = m.request || {};
      if (r.text) return r.text.body;
      if (r.interactive) return (r.interactive.body || {}).text || "";
      if (r.template) return `Template ${r.template.name}`;
      const media = r[r.type] || {};
      return media.caption || r.type;
    }
    const msg = m.message || {};
    if (msg.text) return msg.text.body;
    if (msg.interactive) return (msg.interactive.button_reply || msg.interactive.list_reply || {}).title || "";
    if (msg.button) return msg.button.text;
    return msg.type || "";
  }

  function ticks(m) {
    return fillTicks(el("span", { class: "ticks", testid: "ticks" }), m);
  }

  // fillTicks shows m's delivery state on its ticks element: the business
  // side's status (with a small label) on business messages, WhatsApp's
  // pending, delivered and blue read ticks on the user's.
  function fillTicks(span, m) {
    let status;
    let mark;
    let label = "";
    if (m.direction === "business") {
      status = m.status || "accepted";
      mark = BUSINESS_TICKS[status] || "";
      label = status;
    } else if (m.error) {
      status = "failed";
      mark = "\u26A0";
      label = "not delivered";
    } else if (m.read) {
      status = "read";
      mark = "\u2713\u2713";
    } else if (m.delivered) {
      status = "delivered";
      mark = "\u2713\u2713";
    } else {
      status = "pending";
      mark = "\u{1F553}";
    }
    span.dataset.status = status;
    span.title = m.error || status;
    span.replaceChildren(mark, ...(label ? [el("span", { class: "label", text: label })] : []));
    return span;
  }

  function textBlock(text) {
    return el("div", { class: "text", testid: "message-text", html: formatWhatsApp(text) });
  }

  function quote(id) {
    const q = state.messages.get(id);
    return el("div", { class: "quote", testid: "quote", "data-quotes": id, text: q ? summary(q) : "\u21A9 message" });
  }

  function renderMessage(m) {
    const business = m.direction === "business";
    const type = business ? (m.request || {}).type : (m.message || {}).type;
    const bubble = el("div", { class: "bubble" });
    const row = el("div", {
      class: `bubble-row ${m.direction}`,
      testid: "message",
      "data-id": m.id,
      "data-direction": m.direction,
      "data-type": type || "",
    }, bubble);
    if (business) renderBusiness(m, bubble, row);
    else renderUser(m, bubble);
    bubble.append(el("span", { class: "meta" }, el("span", { text: clock(m.time) }), ticks(m)));
    return row;
  }

  function renderBusiness(m, bubble, row) {
    const r = m.request || {};
    if (r.context && r.context.message_id) bubble.append(quote(r.context.message_id));
    switch (r.type) {
      case "text":
        bubble.append(textBlock(r.text.body));
        break;
      case "interactive":
        renderInteractive(m, r.interactive || {}, bubble, row);
        break;
      case "template":
        renderTemplate(m, r.template || {}, bubble, row);
        break;
      case "image": case "video": case "audio": case "document": case "sticker":
        renderMedia(r.type, r[r.type] || {}, bubble);
        break;
      default:
        bubble.append(el("div", { class: "choice-tag", text: `[${r.type}]` }));
    }
  }

  // tapOnce disables a strip of buttons while (and after) one is tapped; a
  // failed request enables them again.
  function tapOnce(strip, body) {
    for (const b of strip.querySelectorAll("button")) b.disabled = true;
    act(body).catch(() => {
      for (const b of strip.querySelectorAll("button")) b.disabled = false;
    });
  }

  function renderInteractive(m, it, bubble, row) {
    if (it.header && it.header.text) bubble.append(el("div", { class: "header", testid: "message-header", html: formatWhatsApp(it.header.text) }));
    if (it.body) bubble.append(textBlock(it.body.text));
    if (it.footer) bubble.append(el("div", { class: "footer", testid: "message-footer", text: it.footer.text }));
    const action = it.action || {};
    if (it.type === "button") {
      const strip = el("div", { class: "actions", testid: "reply-buttons" });
      for (const b of action.buttons || []) {
        strip.append(el("button", {
          type: "button",
          testid: "reply-button",
          "data-id": b.reply.id,
          class: m.answer === b.reply.id ? "chosen" : "",
          disabled: Boolean(m.answer), // reply buttons work once, as in WhatsApp
          onclick: () => tapOnce(strip, { type: "button_reply", context_id: m.id, id: b.reply.id }),
        }, b.reply.title));
      }
      row.append(strip);
    } else if (it.type === "list") {
      row.append(el("div", { class: "actions" },
        el("button", { type: "button", testid: "list-button", onclick: () => openSheet(m.id) }, `\u2630 ${action.button || ""}`)));
    }
  }

  function renderTemplate(m, t, bubble, row) {
    bubble.append(el("div", { class: "template-tag", testid: "template", "data-name": t.name || "" },
      `Template \u00B7 ${t.name || ""} \u00B7 ${(t.language || {}).code || ""}`));
    const params = [];
    const buttons = [];
    for (const c of t.components || []) {
      const ps = c.parameters || [];
      if (c.type === "header") {
        for (const p of ps) {
          if (p.type === "text") bubble.append(el("div", { class: "header", testid: "message-header", text: p.text }));
          else renderMedia(p.type, p[p.type] || {}, bubble);
        }
      } else if (c.type === "body") {
        ps.forEach((p, k) => params.push([p.parameter_name || String(k + 1), p.text || ""]));
      } else if (c.type === "button") {
        for (const p of ps) buttons.push({ sub: c.sub_type, p });
      }
    }
    if (params.length) {
      bubble.append(el("ul", { class: "params", testid: "template-params" },
        ...params.map(([k, v]) => el("li", {}, `{{${k}}} `, el("b", { text: v })))));
    }
    if (!buttons.length) return;
    const strip = el("div", { class: "actions" });
    for (const b of buttons) {
      if (b.sub === "quick_reply" && b.p.type === "payload") {
        strip.append(el("button", {
          type: "button",
          testid: "template-button",
          "data-id": b.p.payload,
          class: m.answer === b.p.payload ? "chosen" : "",
          onclick: () => act({ type: "button", context_id: m.id, id: b.p.payload }).catch(() => {}),
        }, b.p.payload));
      } else {
        strip.append(el("div", { class: "link", testid: "template-link", text: `\u{1F517} ${b.p.text || b.p.payload || b.sub}` }));
      }
    }
    row.append(strip);
  }

  function renderMedia(kind, media, bubble) {
    const what = media.filename || media.link || (media.id ? `id ${media.id}` : "");
    bubble.append(el("div", { class: "media", testid: "media", "data-kind": kind },
      el("span", { class: "icon", text: MEDIA_ICONS[kind] || "\u{1F4CE}" }),
      el("span", { text: `${kind}${what ? ": " + what : ""}` })));
    if (media.caption) bubble.append(textBlock(media.caption));
  }

  function renderUser(m, bubble) {
    const msg = m.message || {};
    if (msg.context && msg.context.id) bubble.append(quote(msg.context.id));
    switch (msg.type) {
      case "text":
        bubble.append(textBlock(msg.text.body));
        break;
      case "interactive": {
        const reply = msg.interactive.button_reply || msg.interactive.list_reply || {};
        bubble.append(el("div", { class: "text", testid: "message-text", text: reply.title || "" }));
        if (reply.description) bubble.append(el("div", { class: "footer", text: reply.description }));
        break;
      }
      case "button":
        bubble.append(el("div", { class: "text", testid: "message-text", text: msg.button.text || msg.button.payload }));
        break;
      case "image": case "video": case "audio": case "document": case "sticker":
        renderMedia(msg.type, msg[msg.type] || {}, bubble);
        break;
      default:
        bubble.append(el("div", { class: "choice-tag", text: `[${msg.type}]` }));
    }
  }

  // --- list sheet --------------------------------------------------------------------

  function openSheet(id) {
    const m = state.messages.get(id);
    if (!m) return;
    state.sheetFor = id;
    renderSheet(m);
    ui.sheet.hidden = false;
  }

  function closeSheet() {
    state.sheetFor = "";
    ui.sheet.hidden = true;
  }

  function renderSheet(m) {
    const action = ((m.request || {}).interactive || {}).action || {};
    ui.sheetTitle.textContent = action.button || "";
    ui.sheetBody.replaceChildren(...(action.sections || []).map((s) => el("div", { testid: "list-section" },
      s.title ? el("h4", { class: "section-title", text: s.title }) : null,
      ...(s.rows || []).map((r) => el("button", {
        type: "button",
        class: `row${m.answer === r.id ? " chosen" : ""}`,
        testid: "list-row",
        "data-id": r.id,
        onclick: () => {
          closeSheet();
          act({ type: "list_reply", context_id: m.id, id: r.id }).catch(() => {});
        },
      },
      el("span", { class: "row-text" },
        el("div", { class: "row-title", text: r.title }),
        r.description ? el("div", { class: "row-desc", text: r.description }) : null),
      el("span", { class: "radio" }))))));
  }

  ui.sheetClose.addEventListener("click", closeSheet);
  ui.sheet.addEventListener("click", (e) => { if (e.target === ui.sheet) closeSheet(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeSheet(); });

  // --- composer and picker -------------------------------------------------------------

  function autosize() {
    ui.composer.style.height = "auto";
    ui.composer.style.height = `${Math.min(ui.composer.scrollHeight, 120)}px`;
  }

  ui.composerForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = ui.composer.value;
    if (!text.trim()) return;
    ui.composer.value = "";
    autosize();
    act({ type: "text", text }).catch(() => { ui.composer.value = text; });
    ui.composer.focus();
  });
  ui.composer.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composerForm.requestSubmit();
    }
  });
  ui.composer.addEventListener("input", autosize);

  async function pick(name, phone) {
    const u = await api("POST", "/users", { name, phone });
    openChat(u.phone, u.name);
  }

  ui.form.addEventListener("submit", async (e) => {
    e.preventDefault();
    ui.formError.hidden = true;
    try {
      await pick(ui.name.value, ui.phone.value);
    } catch (err) {
      ui.formError.textContent = err.message;
      ui.formError.hidden = false;
    }
  });

  // Start: restore the last chat of this browser, or just list the users.
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
  } catch (_) {
    saved = null;
  }
  if (saved && saved.phone && saved.name) {
    ui.name.value = saved.name;
    ui.phone.value = saved.phone;
    pick(saved.name, saved.phone).catch(() => connect(""));
  } else {
    connect("");
  }
})();
