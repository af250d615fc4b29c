// The usage chart: calls per day, one stacked series per application and API. The same figures are in
// the table below the chart, for screen readers and for copying.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("usage-data").textContent);
  var days = Array.from(new Set(data.map(function (r) { return r.day; }))).sort();
  var series = {};
  data.forEach(function (r) {
    var name = r.application + " · " + r.agency + "/" + r.api;
    series[name] = series[name] || {};
    series[name][r.day] = r.calls;
  });
  var palette = ["#0b4ea2", "#b34000", "#18753c", "#6e445a", "#3a3a3a", "#8d533e"];
  var datasets = Object.keys(series).sort().map(function (name, i) {
    return {
      label: name,
      data: days.map(function (d) { return series[name][d] || 0; }),
      backgroundColor: palette[i % palette.length]
    };
  });
  new window.Chart(document.getElementById("usage-chart"), {
    type: "bar",
    data: { labels: days, datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();
