"""Routing: refuses paths that try to escape their API, then finds the operation in the current
route table and records it on the request context. Unknown path: 404; known path with another
method: 405 with `Allow`. A retired version is let through whatever the path, for `lifecycle` to
answer 410.

A CORS preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`) at a path that declares
no OPTIONS is routed to the operation it asks about, so that operation's plugins (cors) can answer
it; if none does, the plugin runner answers the 405 it would have had.
"""

from __future__ import annotations

from urllib.parse import unquote

from agora.errors import NotFound, Unavailable

from .config import ConfigHolder
from .context import context_of
from .errors import BadRequest, MethodNotAllowed
from .routes import Match, RouteTable
from .types import ASGIApp, Receive, Scope, Send

__all__ = ["RoutingMiddleware", "check_path", "preflight_match"]


def check_path(raw: str) -> None:
    """Refuses dot segments (also percent-encoded) and encoded separators used to climb out of the
    API's prefix (`/a/b/v1/..%2F..%2Fother`), and NUL bytes. Plain paths cost one scan."""
    if "." not in raw and "%" not in raw and "\\" not in raw:
        return
    decoded = unquote(raw) if "%" in raw else raw
    if "\x00" in decoded:
        raise BadRequest("the path contains a NUL byte")
    for segment in decoded.replace("\\", "/").split("/"):
        if segment in (".", ".."):
            raise BadRequest("the path contains a '.' or '..' segment")


def preflight_match(table: RouteTable, scope: Scope, path: str) -> Match | None:
    """The operation a CORS preflight asks about, or None if it is no preflight or asks for nothing here."""
    origin = requested = None
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value
        elif name == b"access-control-request-method":
            requested = value
    if origin is None or requested is None:
        return None
    match = table.lookup(requested.decode("latin-1").strip().upper(), path)
    return match if match is not None and match.route is not None else None


class RoutingMiddleware:
    def __init__(self, app: ASGIApp, holder: ConfigHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context_of(scope)
        config = ctx.config = self.holder.current
        if config is None:
            raise Unavailable("the gateway has not loaded a configuration yet")
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else scope["path"]
        check_path(path)
        match = config.table.lookup(scope["method"], path)
        if match is None:
            raise NotFound(f"no API is published at {scope['path']}")
        if match.route is None and match.allow and scope["method"] == "OPTIONS":
            asked = preflight_match(config.table, scope, path)
            if asked is not None:
                match, ctx.preflight = asked, match.allow
        ctx.service, ctx.route, ctx.params, ctx.rest = match.service, match.route, match.params, match.rest
        if match.route is None and match.service.status != "retired":
            if match.allow:
                raise MethodNotAllowed(f"{scope['method']} is not offered at this path", match.allow)
            raise NotFound(f"{match.service.name} has no operation at {match.rest or '/'}")
        await self.app(scope, receive, send)
