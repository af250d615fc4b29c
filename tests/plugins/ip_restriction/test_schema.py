"""ip-restriction's config and decisions: addresses and networks of both IP versions, deny before
allow, IPv4-mapped IPv6 judged as IPv4, bad entries refusing the snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.config.model import PluginConfig
from gateway.pipeline.plugin_host import PluginRegistry
from plugins.ip_restriction import handler


def instantiate(config: dict[str, Any]) -> Any:
    registry = PluginRegistry()
    registry.register("ip-restriction", handler)
    return registry.instantiate(PluginConfig("ip-restriction", config), "test").instance


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    fields = {field: rules for entry in handler.Schema for field, rules in entry.items()}
    assert set(fields) == {"allow", "deny", "status", "message"}
    assert all({"type", "default", "description"} <= set(rules) for rules in fields.values())
    assert (fields["status"]["default"], fields["message"]["default"]) == (
        403,
        "Your IP address is not allowed",
    )
    assert (handler.priority, handler.version) == (3000, "1.0.0")


def test_the_order_is_agora_s_own_and_documented_as_not_kong_s() -> None:
    from plugins.jwt import handler as jwt
    from plugins.key_auth import handler as key_auth

    # A denied client is refused before any key is looked at; Kong's ip-restriction runs at 990,
    # after authentication, and the docs say so rather than calling this order Kong's.
    assert max(jwt.PRIORITY, key_auth.PRIORITY) < handler.PRIORITY
    docs = Path(__file__).resolve().parents[3] / "docs"
    differences = (docs / "kong.md").read_text().split("## Differences")[1]
    assert "`ip-restriction`" in differences and "990" in differences
    traffic = (docs / "plugins-traffic.md").read_text()
    assert "priorities are Kong's" not in traffic and "ip-restriction 3000 (Agora's" in traffic


@pytest.mark.parametrize(
    ("client", "refused"),
    [
        ("192.0.2.1", False),  # in the allowed /24
        ("192.0.2.7", True),  # denied: deny wins over allow
        ("::ffff:192.0.2.7", True),  # the same address from a dual-stack socket
        ("::ffff:192.0.2.8", False),
        ("198.51.100.1", True),  # outside the allow list
        ("2001:db8:1::5", False),  # in the allowed /48
        ("2001:db8:1:0:0:0:0:6", True),  # denied, written long-hand
        ("2001:db8:2::1", True),
        ("[2001:db8:1::5]", False),  # bracketed, as in a Host or Forwarded value
        ("not-an-address", True),  # with an allow list, anything not in it is refused
    ],
)
def test_deny_before_allow_for_both_ip_versions(client: str, refused: bool) -> None:
    plugin = instantiate(
        {"allow": ["192.0.2.0/24", "2001:db8:1::/48"], "deny": ["192.0.2.7", "2001:db8:1::6/128"]}
    )
    assert plugin.refused(client) is refused


def test_a_deny_list_alone_lets_everyone_else_through() -> None:
    plugin = instantiate({"deny": ["10.0.0.0/8", "::ffff:172.16.0.0/108"]})  # a mapped network is IPv4's
    assert plugin.refused("10.1.2.3") and plugin.refused("172.16.9.9") and plugin.refused("::ffff:10.0.0.1")
    assert not plugin.refused("11.0.0.1") and not plugin.refused("2001:db8::1")
    assert not plugin.refused("unix-socket-peer")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "set allow, deny or both"),
        ({"allow": [], "deny": []}, "set allow, deny or both"),
        ({"allow": ["192.0.2.0/33"]}, "not an IP address or CIDR"),
        ({"deny": ["example.org"]}, "not an IP address or CIDR"),
        ({"deny": ["10.0.0.1"], "status": 200}, "4xx or 5xx"),
        ({"whitelist": ["10.0.0.1"]}, "unknown field"),
    ],
)
def test_bad_configs_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        instantiate(config)
