"""Upstream URLs an agency may publish: no server-side request forgery through the gateway.

Link-local and cloud-metadata addresses and private ranges are refused unless the operator names the
host in `AGORA_ALLOWED_UPSTREAM_HOSTS`. Loopback stays allowed: the embedded platform runs its example
upstreams there. Only literal addresses and well-known metadata names are checked here; DNS answers
can change after publication, so the production network must also keep gateways out of those ranges.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from agora.errors import InvalidInput

__all__ = ["check_upstream"]

_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})


def check_upstream(url: str, *, allowed_hosts: tuple[str, ...] = ()) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"upstream {url!r} must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidInput("upstream URL must not carry credentials")
    if parts.query or parts.fragment:
        raise InvalidInput("upstream URL must not have a query or fragment")
    host = parts.hostname.lower()
    if host in allowed_hosts:
        return url.rstrip("/")
    if host in _METADATA_HOSTS:
        raise InvalidInput(f"upstream host {host!r} is a cloud metadata service")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url.rstrip("/")
    if address.is_loopback:
        return url.rstrip("/")
    if address.is_link_local or address.is_private or address.is_multicast or address.is_unspecified:
        raise InvalidInput(
            f"upstream address {host} is link-local, private or reserved; "
            "an operator can allow it with AGORA_ALLOWED_UPSTREAM_HOSTS"
        )
    return url.rstrip("/")
