// Flightdeck console: live progress over Server-Sent Events, keyboard shortcuts, and a
// disabled button while its form is being sent. Everything works without it.
"use strict";

function setField(box, name, value) {
  for (const el of box.querySelectorAll(`[data-field="${name}"]`)) el.textContent = value;
}

function followProgress(box) {
  const url = box.dataset.progressUrl;
  if (!url) return;
  const source = new EventSource(url);
  const show = (event) => {
    const data = JSON.parse(event.data);
    const job = data.job || {};
    const progress = job.progress || {};
    const sync = data.sync || {};
    const counts = sync.progress || progress;
    setField(box, "status", job.status || sync.status || "");
    setField(box, "step", progress.step || "");
    setField(box, "done", progress.done ?? 0);
    for (const k of ["synced", "failed", "total"]) if (k in counts) setField(box, k, counts[k]);
    const bar = box.querySelector("progress");
    if (bar) {
      const total = counts.total || progress.total || 1;
      const done = "synced" in counts ? (counts.synced || 0) + (counts.failed || 0) : progress.done || 0;
      bar.max = total; bar.value = done;
    }
    const errors = box.querySelector("ul.errors");
    if (errors && sync.errors) {
      errors.replaceChildren(...sync.errors.map((e) => {
        const li = document.createElement("li");
        li.textContent = `${e.campaignId}: ${e.message}`;
        return li;
      }));
    }
    box.dataset.state = event.type === "complete" ? "complete" : "live";
  };
  source.addEventListener("progress", show);
  source.addEventListener("complete", (event) => { show(event); source.close(); });
  source.onerror = () => { if (box.dataset.state === "complete") source.close(); };
}

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-progress-url][data-live]")) followProgress(box);
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    });
  }
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/") {
      const search = document.querySelector("[data-search]") || document.querySelector(".filters input, .filters select");
      if (search) { event.preventDefault(); search.focus(); }
      return;
    }
    if (pendingG) {
      pendingG = false;
      const link = document.querySelector(`header.top a[data-key="${event.key}"]`);
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    if (event.key === "g") pendingG = true;
  });
});
