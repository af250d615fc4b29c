"""Killing an upstream: the gateway sees it unhealthy within 10 s with no traffic at all (active probes),
its circuit opens and clients get a quick 503 problem with Retry-After; the admin's health view says so;
restoring the upstream closes the circuit and traffic flows again. The measured figures are kept in
artifacts/ops/health.json."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.ops.conftest import ARTIFACTS, Traffic, eventually
from tests.integration.ops.stack import OpsStack

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def upstream_state(ops: OpsStack, origin: str) -> tuple[float | None, float | None]:
    """(agora_upstream_healthy, agora_upstream_circuit_state) of one upstream, summed over the workers
    by the gateway's metrics listener (min and max respectively)."""
    healthy = state = None
    for family in text_string_to_metric_families(httpx.get(ops.metrics_url, timeout=5).text):
        for sample in family.samples:
            if sample.labels.get("upstream") == origin:
                if sample.name == "agora_upstream_healthy":
                    healthy = sample.value
                elif sample.name == "agora_upstream_circuit_state":
                    state = sample.value
    return healthy, state


def workers_open(ops: OpsStack, origin: str) -> int:
    """How many worker processes have the upstream's circuit open, from their own gauge files."""
    found = 0
    for path in ops.metrics_dir.glob("gauge_livemax_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            found += any(
                s.name == "agora_upstream_circuit_state"
                and s.labels.get("upstream") == origin
                and s.value == 2
                for s in metric.samples
            )
    return found


def admin_health(ops: OpsStack, service: str) -> dict[str, object] | None:
    body = httpx.get(ops.admin_url + "/admin/health", headers=ops.admin_headers, timeout=5).json()
    return next((s for s in body["services"] if s["service"] == service), None)


def test_killed_upstream_is_seen_its_circuit_opens_and_closes_again(ops: OpsStack, traffic: Traffic) -> None:
    origin, service = ops.upstream_origin("companies"), "commerce.companies.v1"
    url = f"{ops.gateway_url}/commerce/companies/v1/companies"
    key = {"apikey": ops.credentials["demo_api_key"]}
    assert upstream_state(ops, origin) == (1.0, 0.0)
    ops.kill_upstream("companies")
    killed = time.monotonic()
    while upstream_state(ops, origin) != (0.0, 2.0):  # no client traffic meanwhile: probes alone
        assert time.monotonic() - killed < 10, upstream_state(ops, origin)
        time.sleep(0.1)
    detected = time.monotonic() - killed  # by the first worker: the listener reports the worst
    while workers_open(ops, origin) < 2:  # each worker has its own breaker
        assert time.monotonic() - killed < 10, workers_open(ops, origin)
        time.sleep(0.1)
    detected_by_all = time.monotonic() - killed

    answers = []
    for _ in range(6):  # fresh connections: both workers
        time.sleep(0.25)  # under the free plan's 5 a second, which the node's workers count together
        started = time.monotonic()
        response = httpx.get(url, headers=key, timeout=10)
        answers.append((response.status_code, time.monotonic() - started, response))
    assert {status for status, _, _ in answers} == {503}, [(s, r.text) for s, _, r in answers]
    refused = answers[0][2]
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["type"].endswith("/upstream-unavailable")
    seen = eventually(lambda: (admin_health(ops, service) or {}).get("healthy") is False, timeout=15)
    assert seen, admin_health(ops, service)

    ops.start_upstream("companies")
    restored = time.monotonic()
    assert eventually(lambda: upstream_state(ops, origin) == (1.0, 0.0), timeout=20, every=0.1)
    closed = time.monotonic() - restored
    assert eventually(lambda: httpx.get(url, headers=key, timeout=10).status_code == 200, timeout=10)
    assert eventually(lambda: (admin_health(ops, service) or {}).get("healthy") is True, timeout=15)
    uptime = httpx.get(ops.admin_url + "/admin/health", headers=ops.admin_headers).json()["uptime"]
    today = [u for u in uptime if (u["agency"], u["api"]) == ("commerce", "companies")]
    assert today and today[-1]["uptime_percent"] < 100.0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = {
        "seconds_to_unhealthy_and_open_without_traffic": round(detected, 2),
        "seconds_until_every_worker_has_it_open": round(detected_by_all, 2),
        "seconds_503_answers": [round(seconds, 4) for _, seconds, _ in answers],
        "seconds_to_closed_after_restart": round(closed, 2),
        "uptime_percent_today": today[-1]["uptime_percent"],
    }
    (ARTIFACTS / "health.json").write_text(json.dumps(figures, indent=2))
