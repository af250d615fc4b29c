// The interactive console: Swagger UI (vendored from swagger-ui-dist) on the console copy of the spec,
// which points at the gateway and authenticates with the `apikey` header.
// Calls through the portal's relay (`/gateway/...`, same origin) carry `X-Agora-Console: 1`: the relay
// answers nothing else (devportal/web/relay_guard.py), so a link or a `<script src>` cannot use it.
//
// Accessibility fixes Swagger UI's configuration cannot make (axe-core, WCAG 2.1 AA), applied to
// what it renders, again whenever it re-renders:
// - the servers select gets a name (its <label> wraps other content, not the select alone);
// - code blocks that scroll can be reached with the keyboard (tabindex, and a name for the region).
// Deep links are off: they make each operation's path a link inside the expand button (nested
// interactive controls).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");

  function label(scope) {
    scope.querySelectorAll("select#servers:not([aria-label])").forEach(function (select) {
      select.setAttribute("aria-label", "Server the calls go to");
    });
    scope.querySelectorAll(".microlight:not([tabindex]), .highlight-code > pre:not([tabindex])").forEach(function (block) {
      block.setAttribute("tabindex", "0");
      block.setAttribute("role", "region");
      block.setAttribute("aria-label", "Example");
    });
    scope.querySelectorAll(".opblock-summary-path a[href], .opblock-summary-control a[href]").forEach(function (link) {
      link.removeAttribute("href");
    });
  }

  new MutationObserver(function () { label(root); }).observe(root, { childList: true, subtree: true });

  function markRelayCalls(request) {
    var target = new URL(request.url, window.location.href);
    if (target.origin === window.location.origin && target.pathname.indexOf("/gateway/") === 0) {
      request.headers["X-Agora-Console"] = "1";
    }
    return request;
  }

  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: false,
    tryItOutEnabled: true,
    persistAuthorization: false,
    validatorUrl: null,
    requestInterceptor: markRelayCalls,
    syntaxHighlight: { activated: false },
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    onComplete: function () { label(root); }
  });
})();
