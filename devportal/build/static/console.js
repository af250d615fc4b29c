// The interactive console: Swagger UI (vendored from swagger-ui-dist) on the console copy of the spec,
// which points at the gateway and authenticates with the `apikey` header.
// Calls through the portal's relay (`/gateway/...`, same origin) carry `X-Agora-Console: 1`: the relay
// answers nothing else (devportal/web/relay_guard.py), so a link or a `<script src>` cannot use it.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
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
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    validatorUrl: null,
    requestInterceptor: markRelayCalls,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
