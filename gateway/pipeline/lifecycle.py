"""Version lifecycle on the wire: a retired version answers 410 Gone with a pointer to its successor;
a deprecated one answers normally plus `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link`
to its changelog (and successor).
"""

from __future__ import annotations

from email.utils import format_datetime
from functools import lru_cache

from gateway.config.model import Service
from gateway.engine.http import Headers

__all__ = ["deprecation_headers", "successor_of"]


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
