"""Traffic through the running gateway (two worker processes), read back from every place that reports
it: the gateway's metrics listener and the admin's /metrics (prometheus-client's parser), the analytics
API, its CSV export and the dashboard's data endpoint. Each must show exactly what the client saw."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.integration.ops.conftest import Traffic, eventually, gateway_requests
from tests.integration.ops.stack import OpsStack

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
GROUPS = "granularity=minute&group_by=agency,api,status_class"


def by_class(counts: Counter[tuple[str, str, int]]) -> Counter[tuple[str, str, int]]:
    out: Counter[tuple[str, str, int]] = Counter()
    for (agency, api, status), n in counts.items():
        out[(agency, api, status // 100)] += n
    return out


def test_metrics_add_up_across_worker_processes(ops: OpsStack, traffic: Traffic) -> None:
    assert {s for (_, _, s) in traffic.counts} >= {200, 401, 429}, traffic.counts  # all kinds happened
    seen = eventually(lambda: gateway_requests(httpx.get(ops.metrics_url).text) == traffic.counts)
    assert seen, (gateway_requests(httpx.get(ops.metrics_url).text), traffic.counts)
    # Each worker process wrote its own file; the listener's figures are their sum.
    per_worker = []
    for path in sorted(ops.metrics_dir.glob("counter_*.db")):
        total = sum(
            s.value
            for metric in MultiProcessCollector.merge([str(path)])
            for s in metric.samples
            if s.name == "agora_gateway_requests_total" and s.labels["agency"]
        )
        if total:
            per_worker.append(int(total))
    assert len(per_worker) == 2 and sum(per_worker) == traffic.total(), per_worker
    admin = httpx.get(ops.admin_url + "/metrics", headers=ops.admin_headers)
    assert gateway_requests(admin.text) == traffic.counts
    text = admin.text
    limited = sum(n for (_, _, s), n in traffic.counts.items() if s == 429)
    refused = sum(n for (_, _, s), n in traffic.counts.items() if s == 401)
    assert _sum(text, "agora_gateway_rate_limited_total") == limited
    assert _sum(text, "agora_gateway_auth_failures_total") == refused
    assert _sum(text, "agora_gateway_request_duration_seconds_count") == traffic.total()
    assert _sum(text, "agora_config_revision") >= 1


def _sum(text: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def _analytics(ops: OpsStack) -> list[dict[str, Any]]:
    response = httpx.get(f"{ops.admin_url}/admin/analytics/usage?{GROUPS}", headers=ops.admin_headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def test_analytics_csv_and_dashboard_show_the_same_figures(ops: OpsStack, traffic: Traffic) -> None:
    expected = by_class(traffic.counts)

    def rolled_up() -> bool:
        found = Counter({(r["agency"], r["api"], r["status_class"]): r["calls"] for r in _analytics(ops)})
        return found == expected

    assert eventually(rolled_up), (_analytics(ops), expected)
    rows = _analytics(ops)
    assert sum(r["rate_limited"] for r in rows) == sum(
        n for (_, _, s), n in traffic.counts.items() if s == 429
    )
    for row in rows:
        assert (
            row["latency_p50_ms"] <= row["latency_p95_ms"] <= row["latency_p99_ms"] <= row["latency_max_ms"]
        )
    exported = httpx.get(f"{ops.admin_url}/admin/analytics/export?{GROUPS}", headers=ops.admin_headers)
    parsed = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["agency"], r["api"], int(r["status_class"]), int(r["calls"])) for r in parsed] == [
        (r["agency"], r["api"], r["status_class"], r["calls"]) for r in rows
    ]
    with httpx.Client(base_url=ops.admin_url) as browser:
        page = browser.get("/admin/ui/signin").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        browser.post(
            "/admin/ui/signin", data={"csrf_token": csrf.group(1), "token": ops.credentials["admin_token"]}
        )
        data = browser.get("/admin/ui/data/overview?window=1h").json()
    per_api = Counter({(r["agency"], r["api"]): r["calls"] for r in data["apis"]})
    expected_per_api: Counter[tuple[str, str]] = Counter()
    for (agency, api, _), n in traffic.counts.items():
        expected_per_api[(agency, api)] += n
    assert per_api == expected_per_api
    assert data["totals"]["calls"] == traffic.total()
    assert sum(r["calls"] for r in data["series"]) == traffic.total()
