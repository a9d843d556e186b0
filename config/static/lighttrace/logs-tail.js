// Live tail of the logs page: while following, polls the logs API for the records newer than the
// newest shown (`?after=<cursor>`, the next cursor in `X-Tail-Cursor`) and puts them on top of the
// table; keeps at most `data-limit` rows. Every value goes in as text (textContent), never markup.
"use strict";

(function () {
  const box = document.querySelector(".log-tail");
  const table = document.querySelector("table.log-records");
  if (!box || !table) return;
  const button = document.getElementById("tail-toggle");
  const status = document.getElementById("tail-status");
  const limit = parseInt(box.dataset.limit, 10) || 500;
  const showProject = box.dataset.showProject === "1";
  const POLL_MS = 2000;
  let cursor = box.dataset.cursor;
  let timer = null;
  let following = false;
  let generation = 0; // bumped on every pause and resume: an older poll's answer is dropped

  function cell(row, text, className) {
    const td = row.insertCell();
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function kvRow(tbody, key, value, type) {
    const tr = tbody.insertRow();
    const th = document.createElement("th");
    th.className = "mono";
    th.textContent = key;
    tr.appendChild(th);
    const td = cell(tr, String(value), "mono");
    if (type) {
      const span = document.createElement("span");
      span.className = "muted";
      span.textContent = " " + type;
      td.appendChild(span);
    }
  }

  function recordRow(record) {
    const tr = document.createElement("tr");
    tr.className = "log-record log-record-live";
    cell(tr, record.timestamp, "mono");
    const level = tr.insertCell();
    const badge = document.createElement("span");
    badge.className = "badge level-" + String(record.level).replace(/[^a-z]/g, "");
    badge.textContent = record.level;
    level.appendChild(badge);
    const message = tr.insertCell();
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.className = "log-body";
    summary.textContent = record.body;
    details.appendChild(summary);
    const attributes = document.createElement("table");
    attributes.className = "kv";
    const body = attributes.createTBody();
    if (record.template) kvRow(body, "template", record.template);
    if (record.traceId) kvRow(body, "trace", record.traceId);
    if (record.spanId) kvRow(body, "span", record.spanId);
    kvRow(body, "severity", record.severityNumber);
    for (const [key, attr] of Object.entries(record.attributes || {})) kvRow(body, key, attr.value, attr.type);
    details.appendChild(attributes);
    message.appendChild(details);
    if (showProject) cell(tr, record.project);
    return tr;
  }

  function show(records) {
    const rows = table.tBodies[0];
    const header = rows.rows[0];
    if (records.length) {
      for (const empty of rows.querySelectorAll("td.muted[colspan]")) empty.parentNode.remove();
    }
    // The API answers newest first: inserting from the oldest puts the newest on top.
    for (const record of records.slice().reverse()) header.after(recordRow(record));
    while (rows.rows.length - 1 > limit) rows.deleteRow(rows.rows.length - 1);
  }

  async function poll() {
    const run = generation;
    const params = new URLSearchParams({
      query: box.dataset.query,
      statsPeriod: box.dataset.period,
      after: cursor,
      per_page: "100",
    });
    try {
      const response = await fetch(box.dataset.api + "?" + params, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const records = await response.json();
      if (run !== generation) return; // paused (or paused and resumed) meanwhile: a newer poll runs
      cursor = response.headers.get("X-Tail-Cursor") || cursor;
      show(records);
      status.textContent = "following · " + new Date().toLocaleTimeString();
      // A full page means more are waiting: ask again at once.
      schedule(records.length >= 100 ? 0 : POLL_MS);
    } catch (error) {
      if (run !== generation) return;
      status.textContent = "following · retrying (" + error.message + ")";
      schedule(POLL_MS * 2);
    }
  }

  function schedule(ms) {
    if (following) timer = setTimeout(poll, ms);
  }

  function toggle() {
    following = !following;
    generation += 1;
    button.setAttribute("aria-pressed", String(following));
    button.textContent = following ? "Pause" : "Live tail";
    clearTimeout(timer);
    if (following) {
      status.textContent = "following";
      poll();
    } else {
      status.textContent = "paused";
    }
  }

  button.addEventListener("click", toggle);
})();
