"""`cors`: Cross-Origin Resource Sharing (the Fetch standard), with Kong's cors fields.

Preflights (OPTIONS with Origin and Access-Control-Request-Method) are answered here, 200 with
the CORS headers and no body, before authentication and limits run (priority 2000). The gateway
routes a preflight at a path whose API declares no OPTIONS to the operation it asks about, so
this plugin sees it; there it always answers, as there is no upstream operation to continue to.

Other requests get the headers on their response (also on the gateway's own answers, so a
browser can read a 401 or a 429); the upstream's own Access-Control-* headers are replaced, as
this plugin is the one place the API's cross-origin policy is decided.

Safety: an origin is echoed only when it is listed or matched by a pattern. `*` answers `*` and
never comes with Access-Control-Allow-Credentials, so `credentials: true` plus `*` grants
credentials to the configured origins only (Kong would echo any origin there). Origins that are
not one well-formed origin (`scheme://host[:port]` or `null`) are never matched by a pattern.
"""

from __future__ import annotations

import re
from typing import Any

from agora.errors import InvalidInput

from .schema import DEFAULT_METHODS, Schema

__all__ = ["PRIORITY", "VERSION", "Plugin", "Schema", "priority", "version"]

PRIORITY = 2000  # Kong's cors: before authentication, so preflights need no credentials
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_ORIGIN = "cors: origin {!r} is neither an origin nor a valid regular expression: {}"

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"
EXPOSE_HEADERS = "Access-Control-Expose-Headers"
_ANSWERED = "cors.preflight_answered"  # kong.ctx.shared: the response phase leaves that answer alone
_LITERAL = re.compile(r"[A-Za-z0-9.:/-]+")  # Kong's test: anything else in an entry makes it a regex
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/,?#@]+|null")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normalized(origin: str) -> str:
    """Scheme and host are case-insensitive and the default port is implied (RFC 6454)."""
    scheme, sep, rest = origin.lower().partition("://")
    if sep and rest.endswith(":" + _DEFAULT_PORTS.get(scheme, "-")):
        rest = rest.rsplit(":", 1)[0]
    return scheme + sep + rest


def _joined(values: list[str] | None) -> str | None:
    return ", ".join(values) if values else None


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        origins: list[str] = list(config["origins"] or ["*"])
        self.any_origin = "*" in origins
        self.literal = frozenset(_normalized(o) for o in origins if o != "*" and _LITERAL.fullmatch(o))
        self.patterns: list[re.Pattern[str]] = []
        for origin in origins:
            if origin != "*" and not _LITERAL.fullmatch(origin):
                try:
                    self.patterns.append(re.compile(origin))
                except re.error as exc:
                    raise InvalidInput(ERR_ORIGIN.format(origin, exc)) from exc
        # The answer depends on the request's Origin unless it is `*` for everyone: caches must know.
        self.varies = bool(self.literal or self.patterns)
        self.credentials: bool = config["credentials"]
        methods = config["methods"] or DEFAULT_METHODS
        self.methods = ", ".join(DEFAULT_METHODS if "*" in methods else methods)
        headers = config["headers"]
        self.headers = None if not headers or "*" in headers else ", ".join(headers)
        self.exposed = _joined(config["exposed_headers"])
        self.max_age = None if config["max_age"] is None else str(int(config["max_age"]))
        self.preflight_continue: bool = config["preflight_continue"]
        self.private_network: bool = config["private_network"]

    def _allowed(self, origin: str | None) -> str | None:
        """Access-Control-Allow-Origin for this Origin: the origin itself, `*`, or nothing."""
        if origin and (
            _normalized(origin) in self.literal
            or (_ORIGIN.fullmatch(origin) and any(p.fullmatch(origin) for p in self.patterns))
        ):
            return origin
        return "*" if self.any_origin else None

    def access(self, kong: Any) -> None:
        request = kong.request
        if request.get_method() != "OPTIONS":
            return
        origin = request.get_header("origin")
        if origin is None or request.get_header("access-control-request-method") is None:
            return  # a plain OPTIONS call: the operation's own business
        route = kong.router.get_route() or {}
        declared = "OPTIONS" in (route.get("methods") or ())
        if self.preflight_continue and declared:
            return
        headers = self._origin_headers(origin)
        if ALLOW_ORIGIN in headers:  # a refused origin learns nothing of the policy
            headers["Access-Control-Allow-Methods"] = self.methods
            asked = request.get_header("access-control-request-headers")
            if self.headers or asked:
                headers["Access-Control-Allow-Headers"] = self.headers or asked
            if self.max_age is not None:
                headers["Access-Control-Max-Age"] = self.max_age
            private = request.get_header("access-control-request-private-network")
            if self.private_network and private == "true":
                headers["Access-Control-Allow-Private-Network"] = "true"
        kong.ctx.shared[_ANSWERED] = True
        kong.response.exit(200, b"", headers)

    def response(self, kong: Any) -> None:
        if kong.ctx.shared.get(_ANSWERED):
            return
        response = kong.response
        for name in (ALLOW_ORIGIN, ALLOW_CREDENTIALS, EXPOSE_HEADERS):
            response.clear_header(name)
        for name, value in self._origin_headers(kong.request.get_header("origin")).items():
            if name == "Vary":
                vary = response.get_header("vary")
                if vary and "origin" in (token.strip().lower() for token in vary.split(",")):
                    continue
                value = f"{vary}, {value}" if vary else value
            response.set_header(name, value)
        if self.exposed and response.get_header(ALLOW_ORIGIN) is not None:
            response.set_header(EXPOSE_HEADERS, self.exposed)

    def _origin_headers(self, origin: str | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        allowed = self._allowed(origin)
        if allowed is not None:
            headers[ALLOW_ORIGIN] = allowed
            if self.credentials and allowed != "*":
                headers[ALLOW_CREDENTIALS] = "true"
        if self.varies:
            headers["Vary"] = "Origin"
        return headers
