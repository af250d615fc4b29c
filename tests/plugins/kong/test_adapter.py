"""The adapter's pieces in-process, against a stand-in for kong-pdk's `kong` object (attribute chains
ending in a call, as kong-pdk's FakeClasses): config translation, PDK translation, snapshot reloads."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.pipeline.plugin_host import PluginRegistry
from plugins.kong import snapshot as snapshot_module
from plugins.kong.adapter import plugin_class
from plugins.kong.pdk import AfterExit, KongFacade, encode_exit
from plugins.kong.schema import agora_config, kong_fields
from plugins.kong.serialize import facts_from_kong
from plugins.kong.server import load_env_file, load_spec
from plugins.kong.snapshot import SnapshotFile, index
from tests.plugins.helpers import consumer, credential, route, service, snapshot

SPECS = PluginRegistry.discover("plugins").specs
APP = "8c0f6a52-3e0d-4c3a-9d7e-2b1f0a9c4d11"
ROUTE = "gov.items.v1.get-items--item-id-"  # the export's name for operation "get/items/{item-id}"


class FakeKong:
    """kong-pdk's `kong`: `kong.a.b(*args)` -> answers[a.b](*args), every call recorded."""

    def __init__(self, answers: dict[str, Any], prefix: str = "kong", calls: list[Any] | None = None) -> None:
        self._answers, self._prefix = answers, prefix
        self.calls: list[Any] = [] if calls is None else calls

    def __getattr__(self, name: str) -> FakeKong:
        return FakeKong(self._answers, f"{self._prefix}.{name}", self.calls)

    def __call__(self, *args: Any) -> Any:
        self.calls.append((self._prefix, args))
        answer = self._answers.get(self._prefix)
        if isinstance(answer, Exception):
            raise answer
        return answer(*args) if callable(answer) else answer


def view() -> Any:
    _, cred = credential("cred-1", sandbox=True)
    doc = snapshot([service("gov.items.v1", "http://up.invalid/base", [route("GET", "/items/{item-id}")])])
    doc["consumers"] = [consumer(APP, "acme", [cred], grants=["gov/items"])]
    doc["plans"] = {"free": {"name": "Free", "limits": {"minute": 5}}}
    return index(doc)


def test_kong_config_becomes_agora_config() -> None:
    spec = SPECS["request-validator"]
    kong = {
        "__key__": "k", "__seq__": 3, "__plugin_id": "p", "openapi": None, "max_body_bytes": 10,
        "parameters": json.dumps([{"name": "q", "in": "query", "schema": {"type": "string"}}]), "body": None,
    }  # fmt: skip
    config = agora_config(spec, kong)
    assert config["openapi"] == "3.0"  # null from Kong: Agora's default
    assert config["parameters"][0]["name"] == "q" and config["body"] is None
    issuers = [{"issuer": "i", "audiences": ["a"], "jwks_uri": None}]
    jwt = agora_config(SPECS["jwt"], {"issuers": issuers, "required_scopes": {}, "claims_to_headers": []})
    assert jwt["required_scopes"] == [] and jwt["claims_to_headers"] == {}  # cjson's empty tables
    fields = {next(iter(f)): f[next(iter(f))] for f in kong_fields(spec)}
    assert fields["parameters"] == {"type": "string", "default": "[]"}  # JSON text for Kong


def test_multi_maps_exits_and_calls_after_an_exit() -> None:
    answers = {
        "kong.request.get_headers": {"apikey": ["k"], "x-two": ["a", "b"]},
        "kong.request.get_query": {"flag": [], "q": ["1"]},
    }
    kong = FakeKong(answers)
    facade = KongFacade(kong, view())
    assert facade.request.get_headers() == {"apikey": "k", "x-two": ["a", "b"]}
    assert facade.request.get_query() == {"flag": "", "q": "1"}
    facade.response.error(429, "slow down", {"Retry-After": 3})
    method, (status, body, headers) = kong.calls[-1]
    assert (method, status) == ("kong.response.exit", 429)
    assert json.loads(body)["detail"] == "slow down" and headers["Retry-After"] == "3"
    with pytest.raises(AfterExit):
        facade.request.get_path()
    assert encode_exit(200, {"a": 1}, None) == (
        200,
        b'{"a":1}',
        {"Content-Type": "application/json; charset=utf-8"},
    )


def test_consumers_credentials_routes_and_captures_map_to_the_snapshot() -> None:
    kong_route = {"name": ROUTE, "methods": ["GET"]}
    answers = {
        "kong.router.get_route": kong_route,
        "kong.router.get_service": {"name": "gov.items.v1", "tags": ["agora"]},
        "kong.request.get_uri_captures": {"named": {"agora_path": "/items/a%20b", "item_id": "a%20b"}},
        "kong.client.get_consumer": {"id": APP, "custom_id": APP, "username": "acme"},
        "kong.client.get_credential": {"id": "cred-1"},
    }
    kong = FakeKong(answers)
    facade = KongFacade(kong, view())
    assert facade.request.get_uri_captures() == {"unnamed": ["a b"], "named": {"item-id": "a b"}}
    assert facade.router.get_route()["paths"] == ["/gov/items/v1/items/{item-id}"]
    assert facade.router.get_service()["agency"] == "gov" and facade.router.get_service()["path"] == "/base"
    assert facade.client.get_consumer()["grants"] == [{"api": "gov/items", "plan": "gov-items-plan"}]
    assert facade.client.get_credential()["sandbox"] is True
    assert sum(1 for m, _ in kong.calls if m == "kong.router.get_route") == 1  # asked once per event
    # authenticate hands Kong the export's consumer, never the snapshot's credential entry
    other = KongFacade(FakeKong({}), view())
    other.client.authenticate(view().consumers[APP], view().credentials["cred-1"])
    sent = other.bridge.kong.calls[-1][1]
    assert sent == (
        {"id": APP, "username": "acme", "custom_id": APP},
        {"id": "cred-1", "consumer": {"id": APP}},
    )


def test_a_phase_that_raises_answers_500_once() -> None:
    class Broken:
        def __init__(self, config: dict[str, Any]) -> None:
            pass

        def access(self, kong: Any) -> None:
            kong.response.set_header("X-A", "1")
            raise RuntimeError("boom")

    spec = type(SPECS["cors"])("broken", Broken, (), "1.0.0", 10)
    cls = plugin_class(spec, SnapshotFile("/nonexistent/snapshot.json"))
    assert hasattr(cls, "access") and not hasattr(cls, "response")  # kong-pdk reports the phases it finds
    kong = FakeKong({})
    cls({}).access(kong)
    exits = [args for method, args in kong.calls if method == "kong.response.exit"]
    assert len(exits) == 1 and exits[0][0] == 500
    assert json.loads(exits[0][1])["type"].endswith("/internal-error")


def test_the_snapshot_file_is_reloaded_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_module, "RECHECK_SECONDS", 0.0)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"format": 1, "plans": {"a": {"limits": {}}}}))
    file = SnapshotFile(path)
    assert file.current().get_plan("a") is not None
    path.write_text("{not json")
    os.utime(path, ns=(time.time_ns() + 10**9,) * 2)
    assert file.current().get_plan("a") is not None  # a bad file keeps the last good snapshot
    path.write_text(json.dumps({"format": 1, "plans": {"b": {"limits": {}}}}))
    os.utime(path, ns=(time.time_ns() + 2 * 10**9,) * 2)
    assert file.current().get_plan("b") is not None and file.current().get_plan("a") is None


def test_kong_log_entries_become_the_gateway_s_facts() -> None:
    entry = {
        "request": {"method": "GET", "uri": "/gov/items/v1/items/1?x=1", "size": 120, "headers": {}},
        "response": {"status": 200, "size": 300},
        "latencies": {"request": 12, "proxy": 9},
        "route": {"name": ROUTE},
        "service": {"name": "gov.items.v1"},
        "consumer": {"id": APP, "custom_id": APP},
        "authenticated_entity": {"id": "cred-1"},
        "client_ip": "192.0.2.1",
        "started_at": 1_700_000_000_000,
    }
    facts = facts_from_kong(entry, view())
    assert facts["path"] == "/gov/items/v1/items/1" and facts["route"] == "get/items/{item-id}"
    assert (facts["consumer"], facts["credential"], facts["sandbox"]) == (APP, "cred-1", True)
    assert facts["latency_upstream_ms"] == 9.0 and facts["started_at"] == 1_700_000_000.0


def test_server_names_and_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_spec("agora-key-auth").name == "key-auth"
    for bad in ("key-auth", "agora-../x", "agora-Key"):
        with pytest.raises(SystemExit):
            load_spec(bad)
    env = tmp_path / "env"
    env.write_text("# comment\nAGORA_TEST_KONG_A=1\nAGORA_TEST_KONG_B = two\n")
    monkeypatch.setenv("AGORA_TEST_KONG_A", "kept")
    monkeypatch.delenv("AGORA_TEST_KONG_B", raising=False)
    load_env_file(env)
    assert os.environ["AGORA_TEST_KONG_A"] == "kept" and os.environ["AGORA_TEST_KONG_B"] == "two"
    monkeypatch.delenv("AGORA_TEST_KONG_B")
