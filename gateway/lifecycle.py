"""Version lifecycle on the wire: a retired version answers 410 Gone with a pointer to its successor;
a deprecated one answers normally plus `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link`
to its changelog (and successor).
"""

from __future__ import annotations

from email.utils import format_datetime
from functools import lru_cache

from .context import context_of
from .errors import Gone
from .model import Service
from .types import ASGIApp, Headers, Message, Receive, Scope, Send

__all__ = ["LifecycleMiddleware", "deprecation_headers", "successor_of"]


def successor_of(service: Service, by_name: dict[str, str]) -> str | None:
    """The successor as a path: the snapshot may name a service or give its prefix."""
    successor = service.successor
    if not successor:
        return None
    return successor if successor.startswith(("/", "http://", "https://")) else by_name.get(successor)


@lru_cache(maxsize=1024)
def deprecation_headers(service: Service, successor: str | None) -> Headers:
    """Computed once per service of a snapshot (services hash by identity)."""
    headers: Headers = []
    if service.status == "deprecated":
        # RFC 9745 wants the date the deprecation took effect; a snapshot without one says "already".
        since = int(service.deprecated_at.timestamp()) if service.deprecated_at else 0
        headers.append((b"deprecation", f"@{since}".encode()))
    if service.sunset is not None:
        headers.append((b"sunset", format_datetime(service.sunset, usegmt=True).encode()))
    links = []
    if service.changelog:
        links.append(f'<{service.changelog}>; rel="deprecation"; type="text/html"')
    if successor:
        links.append(f'<{successor}>; rel="successor-version"')
    if links and headers:
        headers.append((b"link", ", ".join(links).encode("latin-1")))
    return headers


class LifecycleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context_of(scope)
        service = ctx.service
        assert service is not None and ctx.config is not None
        if service.status == "published" and service.sunset is None:
            await self.app(scope, receive, send)
            return
        successor = successor_of(service, ctx.config.by_name)
        if service.status == "retired":
            where = f"; use {successor}" if successor else ""
            raise Gone(f"{service.name} has been retired{where}", successor)
        extra = deprecation_headers(service, successor)

        async def send_with_lifecycle(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_lifecycle)
