"""Routing: refuses paths that try to escape their API, then finds the operation in the current
route table and records it on the request context. Unknown path: 404; known path with another
method: 405 with `Allow`. A retired version is let through whatever the path, for `lifecycle` to
answer 410.
"""

from __future__ import annotations

from urllib.parse import unquote

from agora.errors import NotFound, Unavailable

from .config import ConfigHolder
from .context import context_of
from .errors import BadRequest, MethodNotAllowed
from .types import ASGIApp, Receive, Scope, Send

__all__ = ["RoutingMiddleware", "check_path"]


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
        ctx.service, ctx.route, ctx.params, ctx.rest = match.service, match.route, match.params, match.rest
        if match.route is None and match.service.status != "retired":
            if match.allow:
                raise MethodNotAllowed(f"{scope['method']} is not offered at this path", match.allow)
            raise NotFound(f"{match.service.name} has no operation at {match.rest or '/'}")
        await self.app(scope, receive, send)
