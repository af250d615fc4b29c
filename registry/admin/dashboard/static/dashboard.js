// The ops dashboard: polls /admin/ui/data/overview every 5 seconds and redraws figures, tables and
// charts in place (no page reload). Values go in with textContent only: nothing from the data is parsed
// as HTML. Without Chart.js (assets not installed) the tables still carry every figure.
(function () {
  "use strict";
  var REFRESH_MS = 5000;
  var palette = ["#0b4ea2", "#b34000", "#18753c", "#6e445a", "#3a3a3a", "#8d533e", "#00838f", "#7b1fa2"];
  var charts = {};
  var windowSelect = document.getElementById("window");
  var timer = null;

  function text(id, value) { document.getElementById(id).textContent = value; }
  function fmt(n) { return n === null || n === undefined ? "–" : String(n); }
  function pct(r) { return (100 * r).toFixed(2) + "%"; }
  function label(bucket, granularity) {
    var d = new Date(bucket);
    if (granularity === "day") { return d.toISOString().slice(0, 10); }
    return d.toISOString().slice(granularity === "hour" ? 5 : 11, 16).replace("T", " ");
  }

  function fill(tableId, rows, cells) {
    var body = document.querySelector("#" + tableId + " tbody");
    body.replaceChildren();
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      cells(row).forEach(function (cell) {
        var td = document.createElement("td");
        if (cell && typeof cell === "object") { td.textContent = cell.text; td.className = cell.cls; }
        else { td.textContent = fmt(cell); }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function chart(id, type, data, options) {
    if (!window.Chart) { return; }
    if (charts[id]) {
      charts[id].data = data;
      charts[id].update("none");
      return;
    }
    charts[id] = new window.Chart(document.getElementById(id), {
      type: type, data: data,
      options: Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, options)
    });
  }

  function draw(d) {
    var buckets = d.series.map(function (r) { return r.bucket; });
    var labels = buckets.map(function (b) { return label(b, d.granularity); });
    var apis = {};
    d.series_by_api.forEach(function (r) {
      var name = r.agency + "/" + r.api;
      apis[name] = apis[name] || {};
      apis[name][r.bucket] = r.calls;
    });
    chart("chart-traffic", "bar", {
      labels: labels,
      datasets: Object.keys(apis).sort().map(function (name, i) {
        return { label: name, backgroundColor: palette[i % palette.length],
                 data: buckets.map(function (b) { return apis[name][b] || 0; }) };
      })
    }, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } });
    chart("chart-errors", "line", {
      labels: labels,
      datasets: [
        { label: "error rate %", borderColor: "#b3261e", yAxisID: "y",
          data: d.series.map(function (r) { return 100 * r.error_rate; }) },
        { label: "rate-limited", borderColor: "#6e445a", yAxisID: "y1",
          data: d.series.map(function (r) { return r.rate_limited; }) }
      ]
    }, { scales: { y: { beginAtZero: true, position: "left" },
                   y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } } } });
    chart("chart-latency", "line", {
      labels: labels,
      datasets: [["p50", "latency_p50_ms", "#18753c"], ["p95", "latency_p95_ms", "#b34000"], ["p99", "latency_p99_ms", "#b3261e"]]
        .map(function (p) {
          return { label: p[0], borderColor: p[2], data: d.series.map(function (r) { return r[p[1]]; }) };
        })
    }, { scales: { y: { beginAtZero: true } } });
  }

  function render(d) {
    var t = d.totals;
    var down = d.health.services.filter(function (s) { return !s.healthy; }).length;
    text("total-calls", fmt(t.calls));
    text("total-error-rate", pct(t.error_rate));
    text("total-latency", fmt(t.latency_p50_ms) + " / " + fmt(t.latency_p95_ms) + " / " + fmt(t.latency_p99_ms));
    text("total-rate-limited", fmt(t.rate_limited));
    text("total-down", down + " of " + d.health.services.length);
    fill("apis", d.apis, function (r) {
      return [r.agency + "/" + r.api, r.calls, r.errors, pct(r.error_rate), r.latency_p50_ms, r.latency_p95_ms,
              r.latency_p99_ms, r.rate_limited, r.auth_failed];
    });
    var today = new Date().toISOString().slice(0, 10);
    var uptime = {};
    d.health.uptime.forEach(function (u) { if (u.day === today) { uptime[u.agency + "/" + u.api] = u.uptime_percent; } });
    fill("health", d.health.services, function (s) {
      var up = uptime[s.agency + "/" + s.api];
      return [s.service, s.upstream, { text: s.healthy ? "healthy" : "unhealthy", cls: s.healthy ? "state-up" : "state-down" },
              s.circuit, s.workers, up === undefined ? "–" : up.toFixed(2) + "%"];
    });
    fill("top-applications", d.top_applications, function (r) { return [r.name, r.calls, r.errors, r.latency_p95_ms]; });
    fill("audit", d.audit, function (e) { return [e.at.slice(0, 19).replace("T", " "), e.actor, e.action, e.target]; });
    draw(d);
    text("updated", "updated " + new Date().toLocaleTimeString());
  }

  function refresh() {
    fetch("/admin/ui/data/overview?window=" + encodeURIComponent(windowSelect.value), { credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/admin/ui/signin"); throw new Error("signed out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(render)
      .catch(function (error) { text("updated", "not updated: " + error.message); })
      .finally(function () { timer = window.setTimeout(refresh, REFRESH_MS); });
  }

  windowSelect.addEventListener("change", function () {
    window.clearTimeout(timer);
    Object.keys(charts).forEach(function (id) { charts[id].destroy(); delete charts[id]; });
    refresh();
  });
  refresh();
})();
