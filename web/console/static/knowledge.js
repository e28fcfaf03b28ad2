// The knowledge page: uploads, deletes, reindexes, searches and lists the
// questions the assistant could not answer, through /api/v1/knowledge with
// the session cookie and its CSRF token.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": csrf };
  if (body && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  const resp = await fetch("/api/v1/knowledge" + path, { method, headers, body, credentials: "same-origin" });
  const data = resp.status === 204 ? null : await resp.json();
  return { ok: resp.ok, status: resp.status, data };
}

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c);
  return e;
}

document.getElementById("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const list = document.getElementById("upload-results");
  list.replaceChildren(el("li", { textContent: "Uploading…" }));
  const { ok, data } = await api("POST", "/documents", new FormData(form));
  list.replaceChildren();
  if (!data.results) {
    list.append(el("li", { className: "error", textContent: data.error }));
    return;
  }
  for (const r of data.results) {
    list.append(r.error
      ? el("li", { className: "error", textContent: `${r.file}: ${r.error}` })
      : el("li", { className: "ok", textContent: `${r.file}: ${r.change} as “${r.title}” (${r.id})` }));
  }
  if (ok || data.results.some((r) => !r.error)) {
    list.append(el("li", {}, el("a", { href: "", textContent: "Refresh the list" })));
  }
});

document.querySelectorAll("#documents button.delete").forEach((b) => b.addEventListener("click", async () => {
  const row = b.closest("tr");
  const { collection, id } = row.dataset;
  if (!confirm(`Delete “${id}” from ${collection}? The assistant stops answering from it at once.`)) return;
  const { ok, data } = await api("DELETE", `/documents/${encodeURIComponent(collection)}/${id.split("/").map(encodeURIComponent).join("/")}`);
  if (ok) row.remove();
  else alert(data.error);
}));

const reindex = document.getElementById("reindex");
if (reindex) reindex.addEventListener("click", async () => {
  reindex.disabled = true;
  reindex.textContent = "Reindexing…";
  const { ok, data } = await api("POST", "/reindex", {});
  reindex.textContent = ok ? `Reindexed ${data.documents} documents (${data.chunks} chunks)` : data.error;
});

document.getElementById("search-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const params = new URLSearchParams(new FormData(ev.target));
  const hits = document.getElementById("hits");
  const { ok, data } = await api("GET", "/search?" + params);
  hits.replaceChildren();
  if (!ok) {
    hits.append(el("li", { className: "error", textContent: data.error }));
    return;
  }
  if (data.hits.length === 0) hits.append(el("li", { className: "empty", textContent: "No passage found." }));
  for (const h of data.hits) {
    const s = h.scores;
    hits.append(el("li", { className: "hit" },
      el("strong", { textContent: h.title + (h.section ? " › " + h.section : "") }),
      el("span", { className: "scores", textContent: ` [${h.citation}] vector ${s.vector.toFixed(2)} · text ${s.text.toFixed(2)} · fused ${s.fused.toFixed(3)}` }),
      el("p", { textContent: h.text })));
  }
});

async function loadGaps() {
  const section = document.getElementById("gaps");
  const { ok, data } = await api("GET", "/gaps?days=30");
  if (!ok) {
    section.append(el("p", { className: "error", textContent: data.error }));
    return;
  }
  const table = section.querySelector("table");
  const body = table.querySelector("tbody");
  for (const g of data.gaps) {
    const qs = el("ul", {}, ...g.questions.map((q) => el("li", { textContent: q })));
    body.append(el("tr", {},
      el("td", { textContent: `${g.count}×` + (g.no_answer ? ` (${g.no_answer} unanswered)` : "") }),
      el("td", { textContent: g.intent || "—" }),
      el("td", {}, qs),
      el("td", { textContent: g.best_score.toFixed(2) }),
      el("td", { textContent: new Date(g.last_seen).toLocaleString() })));
  }
  table.hidden = data.gaps.length === 0;
  section.querySelector(".empty").hidden = data.gaps.length !== 0;
  section.dataset.loaded = "true";
}
loadGaps();
