"""An in-process gateway (the real pipeline and plugins, an in-memory upstream) serving one API that
returns personal data, its rows written to a migrated SQLite registry of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agora.pseudonyms import KeyRing
from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import RecordingResponder, call
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from gateway.upstream.transport import UpstreamRequest
from plugins.personal_data_log.handler import shutdown
from registry.db import make_engine, make_sessionmaker
from registry.models import PersonalDataAccess
from tests.plugins.helpers import HMAC_HEX, consumer, credential, route, service, snapshot, sqlite_copy

# Two keys, the first current: rows are made under `t1` only.
KEYS = "t1:" + "11" * 32 + ",t0:" + "22" * 32
RING = KeyRing.parse(KEYS)
NIR_A, NIR_B = "1 85 05 75 123 456 78", "2 90 12 13 987 654 32"
KEY, CREDENTIAL = credential("cred-caf")
OTHER_KEY, OTHER_CREDENTIAL = credential("cred-other")
SANDBOX_KEY, SANDBOX_CREDENTIAL = credential("cred-sandbox", sandbox=True)
DATA = {
    "categories": ["identity", "entitlements"],
    "legal_bases": {"public-task": 1825, "legal-obligation": 1095},
}


def logged(subject: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"name": "personal-data-log", "config": {"subject": subject, **DATA, **extra}}


def document() -> dict[str, Any]:
    """benefits.entitlements.v1: restricted; one operation per subject source, one without personal data."""
    plugins = [
        {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}},
        {"name": "access-control", "config": {}},
    ]
    routes = [
        route(
            "GET",
            "/beneficiaries/{nir}/entitlements",
            plugins=[logged({"in": "path", "name": "nir"})],
            sandbox={"status": 200, "body": {"entitlements": []}},
        ),
        route("GET", "/entitlements", plugins=[logged({"in": "query", "name": "nir"})]),
        route("GET", "/me", plugins=[logged({"in": "header", "name": "X-Subject"})]),
        route("GET", "/offices"),
    ]
    doc = snapshot(
        [service("benefits.entitlements.v1", "http://upstream.test", routes, access="restricted",
                 plugins=plugins)]
    )  # fmt: skip
    caf = consumer(
        "app-caf", "caf-portal", [CREDENTIAL, SANDBOX_CREDENTIAL], grants=["benefits/entitlements"]
    )
    caf["organisation"] = "Caisse d'allocations familiales"
    caf["grants"][0].update({"purpose": "Compute housing benefit", "legal_basis": "legal-obligation"})
    other = consumer("app-other", "nosy", [OTHER_CREDENTIAL])  # no grant: access-control refuses (403)
    doc["consumers"] = [caf, other]
    return doc


class Upstream:
    """Answers 200, or the status a path asks for (`.../404/...`)."""

    def __init__(self) -> None:
        self.requests: list[UpstreamRequest] = []

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def send(self, request: UpstreamRequest) -> Answer:
        self.requests.append(request)
        status = next((int(p) for p in request.url.split("?")[0].split("/") if p in ("404", "500")), 200)
        return Answer(status)


class Answer:
    def __init__(self, status: int) -> None:
        self.status = status
        self.payload = b'{"ok":true}'
        self.headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]

    async def read(self) -> bytes:
        payload, self.payload = self.payload, b""
        return payload

    def whole(self) -> bytes | None:
        payload, self.payload = self.payload, b""
        return payload

    def close(self) -> None:
        pass


@dataclass
class Gateway:
    app: Any
    upstream: Upstream
    database_url: str

    def get(self, target: str, **headers: str) -> int:
        encoded = [(k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        return self.call(target, encoded).status

    def call(self, target: str, headers: list[tuple[bytes, bytes]]) -> RecordingResponder:
        """A GET with header lines as given (a name may repeat)."""
        return asyncio.run(call(self.app, "GET", target, headers=headers))

    def rows(self) -> list[PersonalDataAccess]:
        """Every row, once everything pending is written (the gateway's graceful stop does the same)."""
        shutdown()
        engine = make_engine(self.database_url)
        try:
            with make_sessionmaker(engine)() as session:
                return list(session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))
        finally:
            engine.dispose()


def in_process(doc: dict[str, Any], database_url: str) -> Gateway:
    registry = PluginRegistry.discover("plugins")
    upstream = Upstream()
    app = create_app(
        GatewaySettings(), registry=registry, config=compile_snapshot(doc, registry), transport=upstream
    )
    return Gateway(app, upstream, database_url)


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """The environment a gateway runs in: the registry database, the platform and pseudonym keys."""
    url = sqlite_copy(sqlite_template, tmp_path)
    monkeypatch.setenv("AGORA_DATABASE_URL", url)
    monkeypatch.setenv("AGORA_HMAC_KEY", HMAC_HEX)
    monkeypatch.setenv("AGORA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AGORA_PSEUDONYM_KEYS", KEYS)
    for name in ("AGORA_USAGE_INGEST_URL", "AGORA_PERSONAL_DATA_INGEST_URL"):
        monkeypatch.delenv(name, raising=False)
    yield url
    shutdown()


@pytest.fixture
def gateway(platform: str) -> Gateway:
    return in_process(document(), platform)
