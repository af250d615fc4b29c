"""cors's config: Kong's fields with types, defaults and descriptions; patterns compiled when the
snapshot loads (a bad one refuses the snapshot); `*` in methods or headers meaning Kong's default."""

from __future__ import annotations

from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.config.model import PluginConfig
from gateway.pipeline.plugin_host import PluginRegistry
from plugins.cors import handler


def instantiate(config: dict[str, Any]) -> Any:
    registry = PluginRegistry()
    registry.register("cors", handler)
    return registry.instantiate(PluginConfig("cors", config), "test").instance


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    names = set()
    for entry in handler.Schema:
        for field, rules in entry.items():
            names.add(field)
            assert {"type", "default", "description"} <= set(rules), field
    assert names == {
        "origins", "methods", "headers", "exposed_headers", "credentials", "max_age", "preflight_continue",
        "private_network",
    }  # fmt: skip
    assert (handler.priority, handler.version) == (2000, "1.0.0")


def test_defaults_are_kongs() -> None:
    plugin = instantiate({})
    assert plugin.any_origin and not plugin.varies and not plugin.credentials
    assert plugin.methods == "GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT"
    assert plugin.headers is None and plugin.max_age is None


def test_literal_origins_and_patterns_are_told_apart() -> None:
    plugin = instantiate({"origins": ["https://A.example.org:443", r"https://.*\.example\.gov", "*"]})
    assert plugin.literal == {"https://a.example.org"}
    assert [p.pattern for p in plugin.patterns] == [r"https://.*\.example\.gov"]
    assert plugin._allowed("https://a.example.org") == "https://a.example.org"
    assert plugin._allowed("https://x.example.gov") == "https://x.example.gov"
    assert plugin._allowed("https://x.example.gov.evil") == "*"


def test_star_means_the_default_list() -> None:
    plugin = instantiate({"methods": ["*"], "headers": ["*"], "max_age": 3600.0})
    assert plugin.methods.startswith("GET, HEAD") and plugin.headers is None and plugin.max_age == "3600"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"origins": ["https://(unclosed.example"]}, "valid regular expression"),
        ({"origins": "https://a.example"}, "must be of type array"),
        ({"credentials": "yes"}, "must be of type boolean"),
        ({"allow_origins": ["*"]}, "unknown field"),
    ],
)
def test_bad_configs_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        instantiate(config)
