"""access-control's config: the registry's `{}` accepted, the portal link configurable."""

from __future__ import annotations

import pytest

from gateway.pipeline.plugin_host import apply_schema
from plugins.access_control import handler
from registry.compile.plugins import service_plugins
from registry.models import AccessLevel


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    for entry in handler.Schema:
        for name, rules in entry.items():
            assert {"type", "default", "description"} <= set(rules), name
    assert (handler.priority, handler.version) == (950, "1.0.0")


def test_the_registrys_config_builds_a_plugin_linking_to_the_platform_portal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGORA_PORTAL_URL", "https://portal.example.gov/")
    [entry] = [p for p in service_plugins(AccessLevel.RESTRICTED, {}) if p["name"] == "access-control"]
    plugin = handler.Plugin(apply_schema(handler.Schema, entry["config"], "test"))
    assert plugin.portal_url == "https://portal.example.gov" and plugin.allow_sandbox is True
    own = handler.Plugin(apply_schema(handler.Schema, {"portal_url": "https://x.example"}, "test"))
    assert own.portal_url == "https://x.example"


def test_only_restricted_apis_get_it() -> None:
    for level in (AccessLevel.OPEN, AccessLevel.KEY):
        assert "access-control" not in {p["name"] for p in service_plugins(level, {})}
