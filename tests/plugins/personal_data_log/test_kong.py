"""personal-data-log inside Kong: the export puts `agora-personal-data-log` on exactly the routes the
snapshot logs, its config passed through; its real kong-pdk plugin server, driven with Kong's RPC in the
log phase (Kong's log serializer entry, the consumer agora-key-auth authenticated), writes the same row
as Agora's gateway."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from registry.compile.kong import env_file, to_kong
from registry.db import make_engine, make_sessionmaker
from registry.models import PersonalDataAccess
from tests.plugins.helpers import HMAC_HEX, sqlite_copy
from tests.plugins.kong.kong_rpc import KongRequest, Plugin, Rpc, start_instance, start_server, stop_server
from tests.plugins.personal_data_log.conftest import KEYS, NIR_A, RING, document

pytestmark = pytest.mark.integration

APP = "8c0f6a52-3e0d-4c3a-9d7e-2b1f0a9c4d11"  # the export keeps a UUID application id as Kong's consumer id
NAME = "agora-personal-data-log"


def kong_document() -> dict[str, Any]:
    doc = document()
    caf = doc["consumers"][0]
    caf["id"] = APP
    doc["plans"] = {
        "free": {"name": "Free", "limits": {}},
        "benefits-entitlements-plan": {"name": "G", "limits": {}},
    }
    return doc


def _plugins(config: dict[str, Any]) -> dict[str, list[str]]:
    """Kong route name -> the names of its plugins."""
    return {
        route["name"]: [p["name"] for p in route.get("plugins") or ()]
        for service in config["services"]
        for route in service["routes"]
    }


def test_the_export_runs_the_plugin_in_its_own_server_on_the_declared_routes() -> None:
    doc = kong_document()
    for python_everywhere in (False, True):
        config = to_kong(doc, python_plugins_everywhere=python_everywhere)
        logged = {name for name, plugins in _plugins(config).items() if NAME in plugins}
        assert len(logged) == 3 and not any(name.endswith("offices") for name in logged), logged
        entry = next(
            p
            for s in config["services"]
            for r in s["routes"]
            for p in r.get("plugins") or ()
            if p["name"] == NAME
        )
        assert entry["config"]["categories"] == ["identity", "entitlements"]
        assert entry["config"]["legal_bases"] == {"legal-obligation": 1095, "public-task": 1825}
        assert "KONG_PLUGINSERVER_AGORA_PERSONAL_DATA_LOG_START_CMD=" in env_file(config)


class LoggingKong(KongRequest):
    """Kong after the upstream answered: the log phase, with Kong 3.9's serializer entry."""

    def pdk(self, method: str, args: list[Any]) -> Any:
        if method == "kong.log.serialize":
            self.pdk_calls += 1
            entry = {
                "request": {"id": "kong-req-1", "method": self.method, "uri": self.path, "size": 120,
                            "headers": {"x-request-id": "client-chosen"}},
                "response": {"status": self.status, "size": 300},
                "latencies": {"request": 12, "proxy": 9, "kong": 3},
                "route": {"name": self.route["name"]},
                "service": {"name": self.service["name"], "tags": self.service.get("tags")},
                "consumer": self.consumer,
                "authenticated_entity": {"id": "cred-caf"},
                "client_ip": self.client_ip,
                "started_at": 1_767_225_600_250,
            }  # fmt: skip
            return json.dumps(entry)  # a JSON text over the RPC, as kong-pdk hands it
        return super().pdk(method, args)


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    doc = kong_document()
    (tmp_path / "snapshot.json").write_text(json.dumps(doc))
    url = sqlite_copy(sqlite_template, tmp_path)
    env = {
        "AGORA_SNAPSHOT": str(tmp_path / "snapshot.json"), "AGORA_DATABASE_URL": url,
        "AGORA_HMAC_KEY": HMAC_HEX, "AGORA_PSEUDONYM_KEYS": KEYS, "AGORA_STATE_DIR": str(tmp_path / "state"),
        "AGORA_KONG_ENV_FILE": str(tmp_path / "none"),
    }  # fmt: skip
    process = start_server(NAME, tmp_path, env)
    try:
        yield tmp_path, url, to_kong(doc)
    finally:
        stop_server(process)


def _rows(url: str, expected: int, timeout: float = 10.0) -> list[PersonalDataAccess]:
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with make_sessionmaker(engine)() as session:
                rows = list(session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)
    finally:
        engine.dispose()


def test_the_plugin_server_logs_the_call_as_the_gateway_does(
    server: tuple[Path, str, dict[str, Any]],
) -> None:
    where, url, config = server
    rpc = Rpc(where / f"{NAME}.sock")
    try:
        info = rpc.call("plugin.GetPluginInfo", NAME)
        assert info["Phases"] == ["log"] and info["Priority"] == 11
        path = "/benefits/entitlements/v1/beneficiaries/1%2085%2005%2075%20123%20456%2078/entitlements"
        probe = LoggingKong(config, "GET", path)
        (entry,) = [p for p in probe.route["plugins"] if p["name"] == NAME]
        plugin = Plugin(NAME, rpc, start_instance(rpc, NAME, entry["config"]), int(info["Priority"]))
        kong_consumer = {"id": APP, "username": "caf-portal", "custom_id": APP}
        for status in (200, 403):
            call = LoggingKong(config, "GET", path, consumer=kong_consumer, status=status)
            call.run([plugin], phase="log")
            assert call.exit is None
        no_subject = LoggingKong(
            config, "GET", "/benefits/entitlements/v1/entitlements", consumer=kong_consumer, status=200
        )
        no_subject.run([plugin], phase="log")  # no ?nir=: nobody to show it to
        anonymous = LoggingKong(config, "GET", path, status=401)
        anonymous.run([plugin], phase="log")  # no application identified: an attempt naming nobody
    finally:
        rpc.close()
    served, refused = _rows(url, 2)
    assert (served.key_id, served.subject) == RING.pseudonym(NIR_A)
    assert (served.agency, served.api, served.version, served.operation_id) == (
        "benefits", "entitlements", "1.0.0", "get/beneficiaries/{nir}/entitlements",
    )  # fmt: skip
    assert (served.application_id, served.application_name, served.organisation) == (
        APP, "caf-portal", "Caisse d'allocations familiales",
    )  # fmt: skip
    assert (served.purpose, served.legal_basis, served.retention_days) == (
        "Compute housing benefit", "legal-obligation", 1095,
    )  # fmt: skip
    assert served.at.replace(tzinfo=None).isoformat() == "2026-01-01T00:00:00.250000"
    assert (served.outcome, refused.status, refused.outcome) == ("served", 403, "refused")
    assert served.request_id != "client-chosen" and len({served.request_id, refused.request_id}) == 2
    assert len(_rows(url, 3, timeout=1.5)) == 2
