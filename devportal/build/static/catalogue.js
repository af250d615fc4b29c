// Catalogue filters (agency, tag, access level). Progressive: without JavaScript the whole list shows.
(function () {
  "use strict";
  function apply() {
    var form = document.getElementById("catalogue-filters");
    var table = document.getElementById("catalogue");
    if (!form || !table) return;
    var wanted = {};
    form.querySelectorAll("select[data-filter]").forEach(function (select) {
      wanted[select.getAttribute("data-filter")] = select.value;
    });
    var shown = 0;
    table.querySelectorAll(".portal-card").forEach(function (row) {
      var ok = (!wanted.agency || row.getAttribute("data-agency") === wanted.agency) &&
        (!wanted.access || row.getAttribute("data-access") === wanted.access) &&
        (!wanted.tags || (" " + row.getAttribute("data-tags") + " ").indexOf(" " + wanted.tags + " ") >= 0);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    var count = document.getElementById("catalogue-count");
    if (count) count.textContent = shown + (shown === 1 ? " API" : " APIs");
  }
  function init() {
    var form = document.getElementById("catalogue-filters");
    if (!form || form.getAttribute("data-ready")) return;
    form.setAttribute("data-ready", "1");
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    apply();
  }
  // mkdocs-material may swap pages without a reload (instant navigation); init on each page.
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(init); }
  else { document.addEventListener("DOMContentLoaded", init); }
})();
