"""personal-data-log's config: what the registry compiles builds a plugin, bad declarations are refused
when the snapshot loads (not on every call), and where rows go follows the deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agora import settings
from agora.errors import InvalidInput
from agora.pseudonyms import KeyRing
from gateway.pipeline.plugin_host import PluginRegistry, apply_schema
from plugins import CTX_JWT_CLAIMS
from plugins.jwt.handler import CTX_CLAIMS
from plugins.kong.schema import agora_config, kong_fields
from plugins.personal_data_log import handler
from plugins.personal_data_log.schema import DEFAULT_RETENTION_DAYS, SOURCES
from plugins.personal_data_log.store import store_target
from registry.plugin_policy import compiled_from
from tests.plugins.personal_data_log.conftest import DATA


def config(**given: Any) -> dict[str, Any]:
    return apply_schema(handler.Schema, {"subject": {"in": "path", "name": "nir"}, **DATA, **given}, "test")


@pytest.fixture(autouse=True)
def environment(platform: str) -> None:
    """The conftest's gateway environment: every plugin built here is flushed and stopped after."""


def test_every_field_is_typed_and_described_and_the_plugin_is_the_declarations() -> None:
    for entry in handler.Schema:
        for name, rules in entry.items():
            assert {"type", "description"} <= set(rules), name
            assert "default" in rules or rules.get("required"), name
            for sub in rules.get("fields", ()):
                for sub_name, sub_rules in sub.items():
                    assert {"type", "description"} <= set(sub_rules), f"{name}.{sub_name}"
    assert (handler.priority, handler.version) == (11, "1.0.0")  # just after usage-metering (12)
    assert compiled_from("personal-data-log") == "x-agora-personal-data"
    assert CTX_CLAIMS == CTX_JWT_CLAIMS  # where the jwt plugin leaves the verified claims


def test_the_compiled_config_builds_a_plugin_on_the_database(platform: str) -> None:
    plugin = handler.Plugin(config())
    assert plugin.key == ("personal-data-log", "database", platform, 1.0, 500, 50000)
    assert (plugin.source, plugin.name, plugin.categories) == ("path", "nir", ("identity", "entitlements"))
    assert plugin.retention == {"public-task": 1825, "legal-obligation": 1095}
    assert plugin.default_retention == 1825  # the longest declared
    assert handler.Plugin(config(legal_bases={})).default_retention == DEFAULT_RETENTION_DAYS


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"subject": {"in": "cookie", "name": "nir"}}, "subject"),
        ({"subject": {"in": "path", "name": ""}}, "subject"),
        ({"subject": {"in": "path"}}, "subject"),
        ({"categories": []}, "categories"),
        ({"categories": ["identity", ""]}, "categories"),
        ({"legal_bases": {"public-task": 0}}, "legal_bases"),
        ({"legal_bases": {"public-task": "5y"}}, "legal_bases"),
        ({"legal_bases": {"public-task": True}}, "legal_bases"),
        ({"flush_interval": 0}, "flush_interval"),
        ({"batch_size": 0}, "batch_size"),
        ({"backend": "http"}, "AGORA_PERSONAL_DATA_INGEST_URL"),
    ],
)
def test_bad_configs_are_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        handler.Plugin(config(**given))


def test_the_host_refuses_a_config_without_subject_or_categories() -> None:
    with pytest.raises(InvalidInput, match="'subject' is required"):
        apply_schema(handler.Schema, {"categories": ["identity"]}, "test")
    with pytest.raises(InvalidInput, match="'categories' is required"):
        apply_schema(handler.Schema, {"subject": {"in": "path", "name": "nir"}}, "test")


def test_a_bad_pseudonym_key_ring_refuses_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_PSEUDONYM_KEYS", "k1:abcd")
    with pytest.raises(InvalidInput, match="shorter than 32 bytes"):
        handler.Plugin(config())


def test_the_platform_settings_are_read_once_per_process(
    monkeypatch: pytest.MonkeyPatch, platform: str, tmp_path: Path
) -> None:
    """A plugin is built per route and snapshot: the secrets file (no AGORA_HMAC_KEY) is read once, and
    again only when the variables it depends on change."""
    monkeypatch.delenv("AGORA_PSEUDONYM_KEYS")
    monkeypatch.delenv("AGORA_HMAC_KEY")
    derived = KeyRing.derived(settings.load_settings().hmac_key)  # made and read before counting
    reads: list[Path] = []
    read = settings._load_or_create_secrets

    def counted(state_dir: Path) -> dict[str, str]:
        reads.append(state_dir)
        return read(state_dir)

    monkeypatch.setattr(settings, "_load_or_create_secrets", counted)
    plugins = [handler.Plugin(config(subject={"in": source, "name": "nir"})) for source in ("path", "query")]
    plugins += [handler.Plugin(config()) for _ in range(3)]  # later snapshots
    assert len(reads) == 1
    assert {p.ring for p in plugins} == {derived}
    assert {p.key[2] for p in plugins} == {platform}
    monkeypatch.setenv("AGORA_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert handler.Plugin(config()).key[2] == f"sqlite:///{tmp_path / 'other.db'}"
    assert len(reads) == 2


def test_the_deployment_picks_where_rows_go(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    assert store_target(None, None) == ("database", platform)
    # A gateway that posts its usage has no database: its accesses go beside, to the registry.
    monkeypatch.setenv("AGORA_USAGE_INGEST_URL", "https://admin.gov/admin/usage/ingest")
    assert store_target(None, None) == ("http", "https://admin.gov/admin/personal-data/ingest")
    monkeypatch.setenv("AGORA_PERSONAL_DATA_INGEST_URL", "https://pd.gov/admin/personal-data/ingest")
    assert store_target(None, None) == ("http", "https://pd.gov/admin/personal-data/ingest")
    assert store_target("database", None) == ("database", platform)  # an explicit choice wins
    monkeypatch.delenv("AGORA_PERSONAL_DATA_INGEST_URL")
    monkeypatch.setenv("AGORA_USAGE_INGEST_URL", "https://collector.gov/usage")
    with pytest.raises(InvalidInput, match="AGORA_PERSONAL_DATA_INGEST_URL"):
        store_target(None, None)  # never a local file by default when the usage goes elsewhere


def test_kong_gets_the_subject_record_and_the_retention_map(tmp_path: Path) -> None:
    spec_ = PluginRegistry.discover("plugins").specs["personal-data-log"]
    fields = {name: rules for entry in kong_fields(spec_) for name, rules in entry.items()}
    assert fields["subject"] == {
        "type": "record",
        "required": True,
        "fields": [
            {"in": {"type": "string", "one_of": list(SOURCES), "required": True}},
            {"name": {"type": "string", "required": True}},
        ],
    }
    assert fields["legal_bases"] == {"type": "map", "keys": {"type": "string"}, "values": {"type": "integer"},
                                     "default": {}}  # fmt: skip
    assert fields["categories"] == {"type": "array", "elements": {"type": "string"}, "required": True}
    # Kong's config as a plugin server receives it: its own keys, unset fields as null, [] for {}.
    kong = {**config(), "__key__": "k", "__seq__": 1, "backend": None, "legal_bases": []}
    assert agora_config(spec_, kong)["legal_bases"] == {}
