"""key-auth's config: Kong's field names and defaults, the registry's emitted config accepted."""

from __future__ import annotations

import pytest

from agora.errors import InvalidInput
from gateway.pipeline.plugin_host import apply_schema
from plugins.key_auth import handler
from registry.compile.plugins import service_plugins
from registry.models import AccessLevel


def config(**given: object) -> dict[str, object]:
    return apply_schema(handler.Schema, dict(given), "test")


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    for entry in handler.Schema:
        for name, rules in entry.items():
            assert {"type", "default", "description"} <= set(rules), name
            assert len(rules["description"]) > 20, name


def test_kongs_defaults() -> None:
    assert config() == {
        "key_names": ["apikey"],
        "hide_credentials": False,
        "anonymous": None,
        "key_in_header": True,
        "key_in_query": True,
        "key_in_body": False,
        "run_on_preflight": True,
        "failure_limit": 100,  # Agora's: brute force slowed (guard.py)
        "failure_window": 300,
        "realm": "agora",
    }
    assert (handler.priority, handler.version) == (1250, "1.0.0")


@pytest.mark.parametrize("level", [AccessLevel.KEY, AccessLevel.RESTRICTED])
def test_the_registrys_config_builds_a_plugin(level: AccessLevel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_HMAC_KEY", "11" * 32)
    [entry] = [p for p in service_plugins(level, {}) if p["name"] == "key-auth"]
    plugin = handler.Plugin(config(**entry["config"]))
    assert plugin.key_names == ("apikey",) and plugin.hide_credentials is True
    assert plugin.hmac_key == bytes.fromhex("11" * 32)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"key_in_body": True}, "not supported"),
        ({"key_names": []}, "non-empty"),
        ({"key_names": ["apikey", ""]}, "non-empty"),
    ],
)
def test_unsupported_configs_are_refused(
    given: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_HMAC_KEY", "11" * 32)
    with pytest.raises(InvalidInput, match=message):
        handler.Plugin(config(**given))


def test_types_are_checked_by_the_host() -> None:
    with pytest.raises(InvalidInput, match="hide_credentials"):
        config(hide_credentials="yes")
    with pytest.raises(InvalidInput, match="unknown"):
        config(key_name="apikey")
