// The static pages' header (catalogue, API pages, console) is built once for everyone: ask the portal
// who is signed in and show what that role can use, and mark the current section of the navigation.
(function () {
  "use strict";
  var path = window.location.pathname;
  var best = null;
  document.querySelectorAll(".service-nav a").forEach(function (link) {
    var href = link.getAttribute("href");
    if (href === "/" ? false : path.indexOf(href) === 0) {
      if (!best || href.length > best.getAttribute("href").length) best = link;
    }
  });
  if (best && !document.querySelector(".service-nav [aria-current]")) best.setAttribute("aria-current", "page");
  fetch("/account/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .then(function (me) {
      if (!me || !me.signed_in) return;
      document.querySelectorAll("[data-signed-out]").forEach(function (e) { e.hidden = true; });
      document.querySelectorAll("[data-signed-in], [data-role=developer]").forEach(function (e) { e.hidden = false; });
      if (me.agency_admin) {
        document.querySelectorAll("[data-role=agency-admin]").forEach(function (e) { e.hidden = false; });
      }
      document.querySelectorAll("[data-account-email]").forEach(function (e) { e.textContent = me.email; });
    })
    .catch(function () { /* signed-out header stays: every link still works */ });
  // The GOV.UK pattern: an error summary takes the focus, so screen readers announce it first.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
    // Its links move the focus to the field itself (a fragment link alone only scrolls to it).
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (!field) return;
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      });
    });
  }
})();
