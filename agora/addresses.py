"""Which addresses an agency's URLs may reach: the one check publication and the gateway share.

An agency names an upstream (or a plugin's JWKS URL); the gateway then connects from inside the
platform's network. So every address that is not globally routable is forbidden: loopback, private,
link-local (cloud metadata at 169.254.169.254), shared 100.64.0.0/10 (Alibaba Cloud's metadata),
reserved, documentation, multicast, unspecified. An IPv6 address that carries an IPv4 one is judged as
that IPv4 address: IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96` (RFC 6052), 6to4 `2002::/16`;
local-use NAT64 `64:ff9b:1::/48` (RFC 8215) and Teredo `2001::/32` are refused whole (their IPv4 part
is site-specific or obfuscated). The operator opens exceptions by name or address in
`AGORA_ALLOWED_UPSTREAM_HOSTS` (`make run` names 127.0.0.1 for its example upstreams).

    allowed_hosts_from_env(env) -> tuple[str, ...]
                                       the operator's exceptions, as every process reads them
    normalize_host(host) -> str        one spelling per host: lower case, no trailing dot, no brackets,
                                       every numeric IPv4 form (`127.1`, `2130706433`, `0x7f000001`,
                                       `0177.0.0.1`) as dotted quad; non-ASCII refused
    forbidden_reason(address) -> str | None
    check_host(host, allowed) -> str   publication: the normalised host, or InvalidInput
    check_resolved(host, ip, allowed) -> str | None
                                       connect time: the gateway resolves `host`, asks about each `ip`
                                       before connecting to exactly that address

A name is checked at publication only against the metadata names; what it resolves to can change, so
the gateway checks the address it is about to connect to (`check_resolved`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping

from agora.errors import InvalidInput

__all__ = [
    "ALLOWED_HOSTS_VARIABLE",
    "Address",
    "allowed_hosts_from_env",
    "check_host",
    "check_resolved",
    "connect_check",
    "forbidden_reason",
    "literal_address",
    "normalize_host",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})
# What resolvers (inet_aton) read as an IPv4 address: one to four parts, each decimal, octal (leading 0)
# or hexadecimal (0x).
_NUMERIC = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}")
# A host name as DNS spells it (after IDNA): letters, digits, hyphens, underscores, dots.
_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598: not global, though Python < 3.12 says so
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_TEREDO = ipaddress.IPv6Network("2001::/32")
ALLOWED_HOSTS_VARIABLE = "AGORA_ALLOWED_UPSTREAM_HOSTS"
_HINT = f"an operator can allow it with {ALLOWED_HOSTS_VARIABLE}"


def allowed_hosts_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The operator's exceptions (AGORA_ALLOWED_UPSTREAM_HOSTS, comma-separated names or addresses), read
    the same way by the registry, the gateway and the jwt plugin, so that what publication accepts the
    gateway may reach. `env` defaults to the process environment; blank entries are dropped."""
    raw = (os.environ if env is None else env).get(ALLOWED_HOSTS_VARIABLE, "")
    return tuple(host.strip() for host in raw.split(",") if host.strip())


def literal_address(host: str) -> Address | None:
    """The address a literal host names, in any form resolvers accept; None for a name.
    `host` is lower case, without brackets."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def normalize_host(host: str) -> str:
    """One spelling per host, or InvalidInput. Literal addresses come out canonical (IPv4 dotted quad,
    IPv6 compressed); names lower case without the trailing dot. Non-ASCII is refused: fullwidth digits
    and ideographic dots are read as ASCII ones by IDNA, which would hide an address from this check."""
    if not host.isascii():
        raise InvalidInput(f"host {host!r} has non-ASCII characters; write it in ASCII (punycode for names)")
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.removesuffix(".")
    if "%" in text:  # an IPv6 zone (`fe80::1%eth0`) picks an interface of the gateway's host
        raise InvalidInput(f"host {host!r} names a network interface (zone)")
    address = literal_address(text)
    if address is not None:
        return str(address)
    if not text or not _NAME.fullmatch(text) or len(text) > 253:
        raise InvalidInput(f"host {host!r} is not a valid host name or address")
    return text


def forbidden_reason(address: Address) -> str | None:
    """What kind of address `address` is when a connection to it must not be made (e.g. "loopback");
    None when it is globally routable."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return "a local-use NAT64 address"
        if address in _TEREDO:
            return "a Teredo address"
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return None if reason is None else f"an IPv6 form of {embedded}, {reason}"
    if address.is_unspecified:
        return "unspecified (this host)"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata lives there)"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared address space (carrier-grade NAT, cloud metadata)"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"
    return None


def _allowed(allowed: Iterable[str]) -> frozenset[str]:
    out = set()
    for entry in allowed:
        try:
            out.add(normalize_host(entry))
        except InvalidInput:
            continue  # an entry that names no host allows nothing
    return frozenset(out)


def check_host(host: str, allowed: Iterable[str] = ()) -> str:
    """Publication: the normalised host, or InvalidInput saying why it may not be reached."""
    normal = normalize_host(host)
    if normal in _allowed(allowed):
        return normal
    if normal in METADATA_HOSTS:
        raise InvalidInput(f"host {host!r} is a cloud metadata service")
    if normal == "localhost" or normal.endswith(".localhost"):
        raise InvalidInput(f"host {host} is loopback; {_HINT}")
    address = literal_address(normal)
    if address is not None:
        reason = forbidden_reason(address)
        if reason is not None:
            spelled = host if normal == host else f"{host} ({normal})"
            raise InvalidInput(f"host {spelled} is {reason}; {_HINT}")
    return normal


def check_resolved(host: str, ip: str, allowed: Iterable[str] = ()) -> str | None:
    """Connect time: why the gateway must not connect to `ip`, which `host` resolved to; None when it
    may. `allowed` is the operator's AGORA_ALLOWED_UPSTREAM_HOSTS: naming the host or the address opens
    it. Connect to exactly the `ip` checked, never resolve again (DNS rebinding)."""
    names = _allowed(allowed)
    try:
        if normalize_host(host) in names:
            return None
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except (InvalidInput, ValueError):
        return f"{host!r} resolved to {ip!r}, which is not an address this check can read"
    if str(address) in names:
        return None
    reason = forbidden_reason(address)
    return None if reason is None else f"{host} resolved to {address}, {reason}"


def connect_check(allowed: Iterable[str] = ()) -> Callable[[str, str], str | None]:
    """The gateway's check at connect time (engine/upstream_pool.py calls it per resolved address).

    A host written as an address was judged when the snapshot was made (publication refuses inside
    addresses unless the operator allowed them; a snapshot file is the operator's own), so it passes;
    a name is judged by what it resolves to now, which publication could not know (DNS rebinding)."""
    names = _allowed(allowed)

    def check(host: str, ip: str) -> str | None:
        if literal_address(host.strip("[]").lower()) is not None:
            return None
        return check_resolved(host, ip, names)

    return check
