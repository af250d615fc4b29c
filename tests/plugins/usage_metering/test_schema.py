"""usage-metering's config: the registry's `{}`, the backend chosen by the deployment, bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from agora.errors import InvalidInput
from gateway.pipeline.plugin_host import apply_schema
from plugins.usage_metering import handler
from plugins.usage_metering.backends import store_target
from plugins.usage_metering.recorder import shutdown
from registry.compile.plugins import service_plugins
from registry.models import AccessLevel


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AGORA_USAGE_INGEST_URL", raising=False)
    monkeypatch.setenv("AGORA_DATABASE_URL", f"sqlite:///{tmp_path}/usage.db")
    monkeypatch.setenv("AGORA_HMAC_KEY", "11" * 32)
    monkeypatch.setenv("AGORA_SESSION_SECRET", "s")


def config(**given: object) -> dict[str, object]:
    return apply_schema(handler.Schema, dict(given), "test")


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    for entry in handler.Schema:
        for name, rules in entry.items():
            assert {"type", "default", "description"} <= set(rules), name
    assert config() == {
        "backend": None,
        "http_endpoint": None,
        "flush_interval": 1.0,
        "batch_size": 500,
        "max_pending": 50000,
    }
    assert (handler.priority, handler.version) == (12, "1.0.0")


@pytest.mark.parametrize("level", list(AccessLevel))
def test_the_registrys_config_builds_a_plugin_on_the_database(level: AccessLevel, tmp_path: Path) -> None:
    [entry] = [p for p in service_plugins(level, {}) if p["name"] == "usage-metering"]
    plugin = handler.Plugin(config(**entry["config"]))
    try:
        assert plugin.key == ("database", f"sqlite:///{tmp_path}/usage.db", 1.0, 500, 50000)
    finally:
        shutdown()


def test_the_deployment_picks_http_when_it_has_an_ingest_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_target(None, None)[0] == "database"
    monkeypatch.setenv("AGORA_USAGE_INGEST_URL", "http://admin:8001/admin/usage/ingest")
    assert store_target(None, None) == ("http", "http://admin:8001/admin/usage/ingest")
    assert store_target("http", "http://other/ingest") == ("http", "http://other/ingest")
    assert store_target("database", None)[0] == "database"  # an explicit choice wins


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"flush_interval": 0}, "flush_interval"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_pending": 0}, "max_pending"),
        ({"backend": "http"}, "AGORA_USAGE_INGEST_URL"),
    ],
)
def test_bad_configs_are_refused(given: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        handler.Plugin(config(**given))


def test_unknown_backends_are_refused_by_the_host() -> None:
    with pytest.raises(InvalidInput, match="one of"):
        config(backend="kafka")
