"""Every `agora export kong` file is one decK and Kong 3.9 accept, checked against their own schemas.

decK validates a state file against `kong_json_schema.json` (go-database-reconciler); Kong checks each
plugin's `config` against the plugin's `schema.lua` and refuses fields it does not know. Both are
vendored as test data (tests/registry/compile/data/README.md). The exports: the example platform
(`examples/seed.py`, what `make run` loads) and a hand-made snapshot using every plugin, lifecycle state
and mapping, each in both modes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from examples.seed import seed
from plugins.kong.server import load_spec
from registry.compile.kong import RedisTarget, dump, to_kong
from registry.compile.kong_pluginserver import env_file
from registry.compile.snapshot import compile_snapshot
from registry.unit_of_work import change
from tests.registry.compile.test_kong import snapshot

DATA = Path(__file__).parent / "data"


@cache
def deck_schema() -> Draft4Validator:
    schema = json.loads((DATA / "deck_kong_json_schema.json").read_text())
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@cache
def kong_fields() -> dict[str, dict[str, list[str] | None]]:
    document = json.loads((DATA / "kong_3.9_plugin_fields.json").read_text())
    plugins: dict[str, dict[str, list[str] | None]] = document["plugins"]
    return plugins


def every_feature() -> dict[str, Any]:
    """The parity snapshot plus what it lacks: jwt, usage-metering, a schema-only sandbox example,
    a CORS policy only Agora's plugin can hold, request-size-limiting as an entry, personal-data-log."""
    snap = copy.deepcopy(snapshot())
    by_name = {s["name"]: s for s in snap["services"]}
    companies = by_name["commerce.companies.v1"]
    companies["plugins"] = [
        {"name": "jwt", "config": {"issuer": "https://id.example.gov", "audience": "companies"}},
        {"name": "usage-metering", "config": {}},
        {"name": "cors", "config": {"origins": ["*"], "credentials": True}},
        {"name": "request-size-limiting", "config": {"max_bytes": 2048, "require_content_length": True}},
    ]
    tickets = by_name["transport.tickets.v1"]
    tickets["routes"][1]["sandbox"] = {"status": 201, "schema": {"type": "object"}}
    logged = {
        "subject": {"in": "path", "name": "nir"},
        "categories": ["identity"],
        "legal_bases": {"task": 30},
    }
    tickets["routes"][0].setdefault("plugins", []).append({"name": "personal-data-log", "config": logged})
    return snap


def plugins_of(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in config.get("plugins") or ():
        yield "plugins", entry
    for service in config.get("services") or ():
        for entry in service.get("plugins") or ():
            yield f"service {service['name']}", entry
        for route in service.get("routes") or ():
            for entry in route.get("plugins") or ():
                yield f"route {route['name']}", entry
    for consumer in config.get("consumers") or ():
        for entry in consumer.get("plugins") or ():
            yield f"consumer {consumer['username']}", entry


def check(config: dict[str, Any]) -> None:
    text = dump(config)
    loaded = yaml.safe_load(text)
    errors = sorted(deck_schema().iter_errors(loaded), key=lambda e: list(e.absolute_path))
    assert not errors, [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]
    fields = kong_fields()
    # Kong refuses to start on a plugin its environment does not enable: the env file written beside
    # the export must enable every `agora-*` plugin the file names, each with a plugin server.
    environment = dict(
        line.split("=", 1) for line in env_file(config).splitlines() if line and not line.startswith("#")
    )
    enabled = set(environment["KONG_PLUGINS"].strip("'").split(","))
    for where, entry in plugins_of(loaded):
        name = entry["name"]
        if name.startswith("agora-"):
            assert name in enabled, f"{where}: {name} is not in kong.env's KONG_PLUGINS"
            assert "agora-" + load_spec(name).name == name, f"{where}: {name} has no plugin server"
            continue  # Agora's own plugins: their schema is the plugin server's (tests/plugins/kong)
        assert name in fields, f"{where}: {name} is not a bundled plugin the field list covers"
        for key, value in entry.get("config", {}).items():
            assert key in fields[name], f"{where}: Kong 3.9's {name} has no field {key!r}"
            nested = fields[name][key]
            if nested is not None and isinstance(value, dict):
                unknown = set(value) - set(nested)
                assert not unknown, f"{where}: {name}.{key} has no fields {sorted(unknown)}"


@pytest.mark.parametrize("everywhere", [False, True])
def test_a_snapshot_with_every_feature_exports_a_file_decK_and_kong_accept(everywhere: bool) -> None:
    redis = RedisTarget(host="redis", password="{vault://env/agora-redis-password}")
    config = to_kong(every_feature(), python_plugins_everywhere=everywhere, redis=redis)
    names = {e["name"] for _, e in plugins_of(config)}
    assert {"http-log", "request-termination", "response-transformer", "request-transformer"} <= names
    assert "agora-personal-data-log" in names
    if everywhere:
        assert {"agora-cors", "agora-jwt", "agora-access-control", "agora-key-auth"} <= names
    check(config)


@pytest.mark.parametrize("everywhere", [False, True])
def test_the_example_platform_exports_a_file_decK_and_kong_accept(
    everywhere: bool, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with change(sessions) as session:
        seed(session, settings)
        document = compile_snapshot(session)
    assert document["services"], "the example platform has services"
    check(to_kong(document, python_plugins_everywhere=everywhere))


def test_the_file_s_comment_is_a_yaml_comment() -> None:
    text = dump(to_kong(snapshot()))
    assert text.startswith("# Agora snapshot sha256:" + "5a" * 32)
    assert "_comment" not in yaml.safe_load(text)


def test_an_unknown_field_or_top_level_key_is_caught() -> None:
    """The checks themselves: what Kong or decK would refuse is refused here."""
    config = to_kong(snapshot())
    with pytest.raises(AssertionError, match="_comment"):
        check({**config, "_comment": "decK refuses this"})
    damaged = copy.deepcopy(config)
    damaged["plugins"][0]["config"]["flush_interval"] = 2
    with pytest.raises(AssertionError, match="flush_interval"):
        check(damaged)
