"""Upstream URLs an agency may publish: no server-side request forgery through the gateway.

The host goes through `agora.addresses.check_host` (every spelling of loopback, private, link-local,
shared, reserved and metadata addresses refused unless the operator names the host in
`AGORA_ALLOWED_UPSTREAM_HOSTS`), and the URL is stored with the host as that check normalised it, so
what the gateway connects to is what was checked. Names that resolve inside are the gateway's to refuse
when it connects (`agora.addresses.check_resolved`).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from agora.addresses import check_host
from agora.errors import InvalidInput

__all__ = ["check_upstream", "check_url"]


def check_url(
    url: str,
    *,
    allowed_hosts: tuple[str, ...] = (),
    what: str = "upstream",
    schemes: tuple[str, ...] = ("http", "https"),
) -> str:
    """`url` with its host normalised, or InvalidInput naming `what` and the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"{what} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in schemes or not parts.hostname:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise InvalidInput(f"{what} {url!r} must be an absolute {wanted} URL")
    if parts.username or parts.password:
        raise InvalidInput(f"{what} URL must not carry credentials")
    try:
        host = check_host(parts.hostname, allowed_hosts)
    except InvalidInput as exc:
        raise InvalidInput(f"{what} {url}: {exc.detail}") from None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_upstream(url: str, *, allowed_hosts: tuple[str, ...] = ()) -> str:
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise InvalidInput("upstream URL must not have a query or fragment")
    return check_url(url, allowed_hosts=allowed_hosts).rstrip("/")
