"""usage-metering through running gateways against the real echo upstream: exactly one record per
request, a graceful stop flushes, a crash loses at most one interval and duplicates nothing, and the
`http` backend through the real admin API."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, stop

from tests.plugins.helpers import (
    consumer,
    count_records,
    credential,
    platform_env,
    records,
    route,
    service,
    snapshot,
    sqlite_copy,
)

if TYPE_CHECKING:
    from tests.plugins.usage_metering.conftest import AdminApi

pytestmark = pytest.mark.integration

KEY, CREDENTIAL = credential("cred-acme")


def document(upstream: str, metering: dict[str, Any]) -> dict[str, Any]:
    meter = {"name": "usage-metering", "config": metering}
    key_auth = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}
    items = [route("GET", "/items"), route("POST", "/items")]
    doc = snapshot(
        [
            service("gov.keyed.v1", upstream + "/echo", items, access="key", plugins=[key_auth, meter]),
            service("gov.open.v1", upstream + "/echo", items, plugins=[meter]),
        ]
    )
    doc["consumers"] = [consumer("app-acme", "acme", [CREDENTIAL])]
    return doc


def start(
    start_gateway: StartGateway,
    upstream: str,
    where: Path,
    template: Path,
    metering: dict[str, Any],
    **env: str,
) -> tuple[GatewayProcess, str]:
    url = sqlite_copy(template, where)
    environment = platform_env(where / "state", AGORA_DATABASE_URL=url, **env)
    return start_gateway(document(upstream, metering), env=environment), url


def send(
    gateway: GatewayProcess, calls: list[tuple[str, str, dict[str, str]]], concurrency: int = 16
) -> list[int]:
    async def run() -> list[int]:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=20) as client:

            async def one(method: str, path: str, headers: dict[str, str]) -> int:
                async with gate:
                    body = b"x" * 100 if method == "POST" else None
                    return (await client.request(method, path, headers=headers, content=body)).status_code

            return await asyncio.gather(*(one(*call) for call in calls))

    return asyncio.run(run())


def wait_for_count(url: str, expected: int, timeout: float = 8.0) -> int:
    deadline = time.monotonic() + timeout
    found = count_records(url)
    while found < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        found = count_records(url)
    return found


def test_n_requests_give_exactly_n_records(
    start_gateway: StartGateway, upstream: str, sqlite_template: Path, tmp_path: Path
) -> None:
    gateway, url = start(start_gateway, upstream, tmp_path, sqlite_template, {})
    keyed = [("GET", "/gov/keyed/v1/items", {"apikey": KEY})] * 200
    refused = [("GET", "/gov/keyed/v1/items", {})] * 50
    posted = [("POST", "/gov/open/v1/items", {})] * 50
    statuses = send(gateway, keyed + refused + posted)
    assert statuses.count(200) == 250 and statuses.count(401) == 50
    assert send(gateway, [("GET", "/gov/nowhere/v1/items", {})] * 20) == [404] * 20  # no API: no record
    assert wait_for_count(url, 300) == 300
    time.sleep(1.3)  # one more interval: nothing arrives late or twice
    rows = records(url)
    assert len(rows) == 300 and len({r.request_id for r in rows}) == 300
    ok = next(r for r in rows if r.status == 200 and r.application_id)
    assert (ok.agency, ok.api, ok.version, ok.operation_id) == ("gov", "keyed", "1.0.0", "get/items")
    assert (ok.application_id, ok.credential_id) == ("app-acme", "cred-acme")
    assert ok.client_ip == "127.0.0.0/24" and ok.latency_ms > 0 and ok.upstream_latency_ms is not None
    assert ok.latency_ms >= ok.upstream_latency_ms and ok.bytes_out > 0
    no_key = [r for r in rows if r.status == 401]
    assert len(no_key) == 50 and all(
        r.application_id is None and r.upstream_latency_ms is None for r in no_key
    )
    uploads = [r for r in rows if r.operation_id == "post/items"]
    assert len(uploads) == 50 and all(r.bytes_in == 100 and r.api == "open" for r in uploads)


def test_a_graceful_stop_flushes_everything(
    start_gateway: StartGateway, upstream: str, sqlite_template: Path, tmp_path: Path
) -> None:
    # No write would happen for 60 s or 100,000 records: only the shutdown hook can store these.
    gateway, url = start(
        start_gateway, upstream, tmp_path, sqlite_template, {"flush_interval": 60, "batch_size": 100_000}
    )
    assert send(gateway, [("GET", "/gov/open/v1/items", {})] * 120) == [200] * 120
    time.sleep(0.3)
    assert count_records(url) == 0
    stop(gateway.process)  # SIGINT: uvicorn finishes requests, then the lifespan shutdown
    assert gateway.process.returncode == 0
    assert count_records(url) == 120


def test_a_crash_loses_at_most_one_interval_and_duplicates_nothing(
    start_gateway: StartGateway, upstream: str, sqlite_template: Path, tmp_path: Path
) -> None:
    interval, margin = 1.0, 0.5
    gateway, url = start(start_gateway, upstream, tmp_path, sqlite_template, {"flush_interval": interval})
    completed: list[float] = []
    failed = 0
    killed_at = 0.0

    async def load() -> None:
        nonlocal failed, killed_at
        began = time.monotonic()

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal failed
            while time.monotonic() - began < 30:  # bounded; the kill ends it long before
                try:
                    response = await client.get("/gov/open/v1/items")
                except httpx.TransportError:
                    failed += 1  # in flight when the gateway died (or refused after): at most one each
                    return
                assert response.status_code == 200
                completed.append(time.monotonic())

        async def killer() -> None:
            # Mid-load: after 2.5 s and 300 answers (a busy machine answers slowly), at the latest at 15 s.
            nonlocal killed_at
            while time.monotonic() - began < 15 and (time.monotonic() - began < 2.5 or len(completed) < 300):
                await asyncio.sleep(0.05)
            os.kill(gateway.pid, signal.SIGKILL)
            killed_at = time.monotonic()

        async with httpx.AsyncClient(base_url=gateway.url, timeout=5) as client:
            await asyncio.gather(killer(), *(worker(client) for _ in range(8)))

    asyncio.run(load())
    gateway.process.wait(5)
    stored = count_records(url)
    early = sum(1 for t in completed if t < killed_at - interval - margin)
    window = len(completed) - early  # what the last interval (and the write in flight) can hold
    print(
        f"\ncrash: {len(completed)} answered, {stored} stored, {len(completed) - stored} lost, bound {window}"
    )
    assert early > 100  # the load was real
    assert stored >= early  # everything older than one interval (plus the write) was stored
    assert len(completed) - stored <= window
    assert stored <= len(completed) + failed  # nothing twice (ids are unique, counts cannot exceed calls)
    assert len({r.request_id for r in records(url)}) == stored


def test_the_http_backend_through_the_admin_api(
    start_gateway: StartGateway, upstream: str, sqlite_template: Path, tmp_path: Path, admin_api: AdminApi
) -> None:
    # The registry's `{}` config: the ingest URL in the environment makes the gateway post its records.
    env = {"AGORA_USAGE_INGEST_URL": admin_api.ingest, "AGORA_USAGE_INGEST_TOKEN": admin_api.token}
    gateway, own_database = start(start_gateway, upstream, tmp_path, sqlite_template, {}, **env)
    before = count_records(admin_api.database_url)
    statuses = send(gateway, [("GET", "/gov/keyed/v1/items", {"apikey": KEY})] * 100)
    assert statuses == [200] * 100
    assert wait_for_count(admin_api.database_url, before + 100) == before + 100
    stop(gateway.process)
    rows = [r for r in records(admin_api.database_url) if r.api == "keyed"]
    assert len(rows) == 100 and {r.application_id for r in rows} == {"app-acme"}
    assert {r.client_ip for r in rows} == {"127.0.0.0/24"}
    assert count_records(own_database) == 0
