"""The plugin servers as Kong starts and queries them: `--dump` (Kong's `_query_cmd`), the RPC on the
Unix socket (`_start_cmd`), a failure inside a plugin, and the cost of one RPC round trip."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.pipeline.plugin_host import PluginRegistry
from registry.compile.kong import to_kong
from tests.plugins.helpers import HMAC_HEX, consumer, credential, route, service, snapshot

from .kong_rpc import KongRequest, Plugin, Rpc, RpcError, dump, start_instance, start_server, stop_server

pytestmark = pytest.mark.integration

APP = "8c0f6a52-3e0d-4c3a-9d7e-2b1f0a9c4d11"
PLUGINS = sorted(PluginRegistry.discover("plugins").specs)
# Kong's metaschema (kong/db/schema/metaschema.lua): the field types, what each must declare, and
# which attributes only some types may carry.
TYPES = {"array", "set", "string", "number", "boolean", "integer", "map", "record"}
REQUIRED = {"array": {"elements"}, "set": {"elements"}, "map": {"keys", "values"}, "record": {"fields"}}
ATTRIBUTES = {"type", "required", "default", "one_of", "elements", "keys", "values", "fields"}
PYTHON = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "array": list, "set": list,
          "map": dict, "record": dict}  # fmt: skip


def check_field(where: str, field: dict[str, Any]) -> None:
    assert field.get("type") in TYPES, where
    assert set(field) <= ATTRIBUTES, (where, set(field) - ATTRIBUTES)
    assert REQUIRED.get(field["type"], set()) <= set(field), where
    if "one_of" in field:
        assert field["type"] in ("string", "number", "integer"), where
    if "default" in field:
        value = field["default"]
        assert isinstance(value, PYTHON[field["type"]]), where
        assert not (isinstance(value, bool) and field["type"] != "boolean"), where
    for nested in ("elements", "keys", "values"):
        if nested in field:
            check_field(f"{where}.{nested}", field[nested])
    for entry in field.get("fields", ()):
        assert len(entry) == 1, where
        ((name, sub),) = entry.items()
        check_field(f"{where}.{name}", sub)


@pytest.mark.parametrize("name", PLUGINS)
def test_every_plugin_dumps_the_info_kong_expects(name: str) -> None:
    spec = PluginRegistry.discover("plugins").specs[name]
    infos = dump(f"agora-{name}")
    assert (
        isinstance(infos, list) and len(infos) == 1
    )  # one plugin per server: Kong 3.9+ loads only the first
    info = infos[0]
    assert info["Name"] == f"agora-{name}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["Version"]) and info["Version"] == spec.version
    assert info["Priority"] == spec.priority
    phases = [p for p in ("access", "response", "log") if hasattr(spec.plugin, p)]
    assert sorted(info["Phases"]) == sorted(phases)
    schema = info["Schema"]
    assert schema["name"] == f"agora-{name}"
    ((key, config),) = schema["fields"][0].items()
    assert key == "config" and config["type"] == "record"
    check_field("config", config)
    names = [next(iter(f)) for f in config["fields"]]
    assert names == [n for entry in spec.schema for n in entry]  # every Agora field, in order


def test_the_dump_of_an_unknown_plugin_fails_loudly() -> None:
    import subprocess
    import sys

    from .kong_rpc import REPO

    out = subprocess.run(
        [sys.executable, "-m", "plugins.kong", "agora-no-such-plugin", "--dump"],
        cwd=REPO, capture_output=True, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0 and b"no Agora plugin" in out.stderr


# --- a real server on its socket ---------------------------------------------------------------------

KEY: dict[str, str] = {}


@pytest.fixture(scope="module")
def key_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    KEY["acme"], cred = credential("cred-acme")
    key_auth = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}
    items = [route("GET", "/items/{item_id}")]
    doc = snapshot([service("gov.items.v1", "http://up.invalid", items, access="key", plugins=[key_auth])])
    doc["consumers"] = [consumer(APP, "acme", [cred])]
    where = tmp_path_factory.mktemp("kong")
    (where / "snapshot.json").write_text(json.dumps(doc))
    env = {"AGORA_HMAC_KEY": HMAC_HEX, "AGORA_SNAPSHOT": str(where / "snapshot.json")}
    process = start_server("agora-key-auth", where, env)
    try:
        yield where, to_kong(doc, python_plugins_everywhere=True)
    finally:
        stop_server(process)


def connect(where: Path) -> tuple[Rpc, Plugin]:
    rpc = Rpc(where / "agora-key-auth.sock")
    info = rpc.call("plugin.GetPluginInfo", "agora-key-auth")
    instance = start_instance(rpc, "agora-key-auth", {"key_names": ["apikey"], "hide_credentials": True})
    return rpc, Plugin("agora-key-auth", rpc, instance, int(info["Priority"]))


def test_an_exception_in_a_plugin_is_a_500_problem_and_the_server_stays_up(
    key_auth: tuple[Path, dict[str, Any]],
) -> None:
    where, config = key_auth
    rpc, plugin = connect(where)
    try:
        # Kong fails the PDK call key-auth makes (plugin.StepError): kong-pdk raises inside the plugin.
        failing = KongRequest(config, "GET", "/gov/items/v1/items/1", headers=[("apikey", KEY["acme"])])
        failing.fail = {"kong.request.get_headers"}
        failing.run([plugin])
        assert failing.exit is not None
        status, body, headers = failing.exit
        assert status == 500 and headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 500
        # The same server, the same connection: the next request is served normally.
        ok = KongRequest(config, "GET", "/gov/items/v1/items/1", headers=[("apikey", KEY["acme"])])
        ok.run([plugin])
        assert ok.exit is None and ok.upstream_set["x-consumer-id"] == APP
    finally:
        rpc.close()


def test_a_config_the_plugin_refuses_is_an_rpc_error_not_a_dead_server(
    key_auth: tuple[Path, dict[str, Any]],
) -> None:
    where, config = key_auth
    rpc, plugin = connect(where)
    try:
        with pytest.raises(RpcError, match="key_in_body"):
            start_instance(rpc, "agora-key-auth", {"key_in_body": True}, seq=9)
        with pytest.raises(RpcError, match="no plugin instance"):  # Kong restarts the instance on this
            rpc.call("plugin.HandleEvent", {"InstanceId": 999, "EventName": "access"})
        request = KongRequest(config, "GET", "/gov/items/v1/items/1")
        request.run([plugin])
        assert request.exit is not None and request.exit[0] == 401
    finally:
        rpc.close()


def test_rpc_throughput_on_one_connection(key_auth: tuple[Path, dict[str, Any]]) -> None:
    """Events per second a plugin server handles on one connection, and the cost of one round trip.
    Kong opens (pools) connections per call; this is the best case of one keepalive connection."""
    where, config = key_auth
    rpc, plugin = connect(where)
    try:
        headers = [("apikey", KEY["acme"])]
        for _ in range(20):  # warm up: imports, caches
            KongRequest(config, "GET", "/gov/items/v1/items/1", headers=headers).run([plugin])
        events, calls_before = 300, rpc.calls
        started = time.perf_counter()
        for _ in range(events):
            request = KongRequest(config, "GET", "/gov/items/v1/items/1", headers=headers)
            request.run([plugin])
            assert request.exit is None
        elapsed = time.perf_counter() - started
        round_trips = rpc.calls - calls_before
        per_event = round_trips / events
        print(
            f"\nagora-key-auth on one connection: {events / elapsed:.0f} events/s, "
            f"{per_event:.1f} RPC round trips per event, {elapsed / round_trips * 1e6:.0f} us per round trip"
        )
        assert events / elapsed > 20  # a floor for a shared 2-core machine, not a benchmark
    finally:
        rpc.close()
