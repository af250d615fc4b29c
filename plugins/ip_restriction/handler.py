"""`ip-restriction`: refuses clients by address, with Kong's ip-restriction fields and order.

The client address is the one the gateway determines (`kong.client.get_forwarded_ip()`): the
peer, or the `X-Forwarded-For` hop before the gateway's trusted proxies, never a header anyone
could write. A client in `deny` is refused; with `allow` set, so is every client outside it. An
IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, from a dual-stack socket) is judged as the IPv4
address it is, so a deny on `192.0.2.0/24` cannot be bypassed through it. Refusals are problem
documents with `status` (403) and `message`. Fields and decisions are Kong's; the priority is not
(below).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from agora.errors import InvalidInput

from .schema import Schema

__all__ = ["ERR_ADDRESS", "ERR_EMPTY", "PRIORITY", "VERSION", "Plugin", "Schema", "priority", "version"]

# Agora's own order, not Kong's (990, after authentication): a denied client is refused before any
# key is looked at, so it cannot learn whether a key it tries is valid. Kong's bundled ip-restriction,
# which `agora export kong` uses, keeps 990; docs/kong.md lists the difference.
PRIORITY = 3000
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_ADDRESS = "ip-restriction: {!r} is not an IP address or CIDR network"
ERR_EMPTY = "ip-restriction: set allow, deny or both"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _networks(entries: Iterable[Any] | None) -> tuple[Network, ...]:
    out: list[Network] = []
    for entry in entries or ():
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError as exc:
            raise InvalidInput(ERR_ADDRESS.format(entry)) from exc
        if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None:
            # `::ffff:192.0.2.0/120` means the IPv4 network: addresses are compared unmapped.
            mapped = network.network_address.ipv4_mapped
            network = ipaddress.ip_network(f"{mapped}/{max(0, network.prefixlen - 96)}", strict=False)
        out.append(network)
    return tuple(out)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: Address, networks: tuple[Network, ...]) -> bool:
    # Networks of the other IP version never contain the address (`in` is False for them).
    return any(address in network for network in networks)


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.allow = _networks(config["allow"])
        self.deny = _networks(config["deny"])
        if not self.allow and not self.deny:
            raise InvalidInput(ERR_EMPTY)
        if not 400 <= config["status"] <= 599:
            raise InvalidInput("ip-restriction: status must be a 4xx or 5xx status")
        self.status: int = config["status"]
        self.message: str = config["message"]
        # Clients come back: one decision per address, a bounded memo per plugin instance.
        self.refused = lru_cache(maxsize=4096)(self._refused)

    def _refused(self, client: str) -> bool:
        address = _address(client)
        if address is None:  # not an IP (a Unix socket peer): only an allow list can refuse it
            return bool(self.allow)
        if _within(address, self.deny):
            return True
        return bool(self.allow) and not _within(address, self.allow)

    def access(self, kong: Any) -> None:
        if self.refused(kong.client.get_forwarded_ip()):
            kong.response.error(self.status, self.message)
