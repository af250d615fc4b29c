"""Upstream URLs an agency may publish: no server-side request forgery through the gateway.

Link-local and cloud-metadata addresses and private ranges are refused unless the operator names the
host in `AGORA_ALLOWED_UPSTREAM_HOSTS`. Loopback stays allowed: the embedded platform runs its example
upstreams there. Only literal addresses and well-known metadata names are checked here; DNS answers
can change after publication, so the production network must also keep gateways out of those ranges.

A literal address is read the way the gateway's resolver reads it (`inet_aton`): `2852039166`,
`0xa9fea9fe`, `0251.0376.0251.0376` and `169.254.43518` are all 169.254.169.254. An IPv4 address
embedded in IPv6 (`::ffff:a.b.c.d`, 6to4) is judged as that IPv4 address. Every address that is not
globally routable is refused (private, link-local, shared 100.64.0.0/10 where Alibaba Cloud's metadata
service lives, reserved, documentation), loopback aside. A trailing dot does not change a name.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from agora.errors import InvalidInput

__all__ = ["check_upstream"]

_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})
_NUMERIC = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _literal(host: str) -> Address | None:
    """The address a literal host names, in any of the forms resolvers accept; None for a name."""
    try:
        address: Address = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC.fullmatch(host):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return embedded
    return address


def check_upstream(url: str, *, allowed_hosts: tuple[str, ...] = ()) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"upstream {url!r} must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidInput("upstream URL must not carry credentials")
    if parts.query or parts.fragment:
        raise InvalidInput("upstream URL must not have a query or fragment")
    host = parts.hostname.lower().rstrip(".")
    if host in allowed_hosts:
        return url.rstrip("/")
    if host in _METADATA_HOSTS:
        raise InvalidInput(f"upstream host {host!r} is a cloud metadata service")
    address = _literal(host)
    if address is None or address.is_loopback:
        return url.rstrip("/")
    if not address.is_global or address.is_multicast:
        raise InvalidInput(
            f"upstream address {host} is link-local, private or reserved; "
            "an operator can allow it with AGORA_ALLOWED_UPSTREAM_HOSTS"
        )
    return url.rstrip("/")
