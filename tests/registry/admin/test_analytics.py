"""GET /admin/analytics/*, /admin/health and /metrics: the same figures in JSON, CSV and Prometheus text,
scoped per role; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from registry.analytics.rollup import rollup
from registry.models import HealthSample, utcnow
from tests.registry.admin.conftest import World
from tests.registry.analytics.helpers import insert, raw


@pytest.fixture
def traffic(world: World, sessions: sessionmaker[Session]) -> World:
    now = utcnow()
    at = now.replace(second=0, microsecond=0) - timedelta(minutes=2)
    rows = [raw(at + timedelta(seconds=i % 50), latency=float(i + 1)) for i in range(40)]
    rows += [raw(at, agency="meteo", api="warnings", status=502, application_id="app-9") for _ in range(3)]
    rows += [raw(at, status=429), raw(at, status=401)]
    with sessions.begin() as session:
        insert(session, rows)
        rollup(session)
        session.add(HealthSample(
            minute=at, service="meteo.warnings.v1", agency="meteo", api="warnings",
            upstream="http://127.0.0.1:9103", worker="host:1", probes=3, probes_ok=0, requests=3, failures=3,
            circuit="open", healthy=False, updated_at=now,
        ))  # fmt: skip
    return world


def test_usage_by_api_scoped_per_role(traffic: World) -> None:
    client = traffic.client
    everyone = client.get("/admin/analytics/usage?group_by=agency,api", headers=traffic.ops).json()
    assert [(r["agency"], r["calls"], r["errors"]) for r in everyone["rows"]] == [
        ("cadastre", 42, 0), ("meteo", 3, 3),
    ]  # fmt: skip
    cadastre = everyone["rows"][0]
    assert (cadastre["rate_limited"], cadastre["auth_failed"]) == (1, 1)
    assert cadastre["latency_p50_ms"] == pytest.approx(19.0, rel=0.045)  # 1..40 ms and two of 10 ms
    own = client.get("/admin/analytics/usage?group_by=agency", headers=traffic.admin_a).json()
    assert [r["agency"] for r in own["rows"]] == ["cadastre"]
    refused = client.get("/admin/analytics/usage?agency=meteo", headers=traffic.admin_a)
    assert refused.status_code == 403
    assert client.get("/admin/analytics/usage").status_code == 401
    bad = client.get("/admin/analytics/usage?granularity=week", headers=traffic.ops)
    assert bad.status_code == 422 and "granularity" in bad.json()["detail"]


def test_csv_export_has_the_json_figures(traffic: World) -> None:
    query = "granularity=hour&group_by=agency,api,application"
    rows = traffic.client.get(f"/admin/analytics/usage?{query}", headers=traffic.platform).json()["rows"]
    response = traffic.client.get(f"/admin/analytics/export?{query}", headers=traffic.platform)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["agency"], r["api"], r["application"], int(r["calls"])) for r in parsed] == [
        (r["agency"], r["api"], r["application"], r["calls"]) for r in rows
    ]
    assert [float(r["latency_p95_ms"]) for r in parsed] == [r["latency_p95_ms"] for r in rows]


def test_a_csv_cell_that_looks_like_a_formula_is_text(world: World, sessions: sessionmaker[Session]) -> None:
    # Usage records come from gateways (any string of a few dozen characters): a spreadsheet must not
    # run what one carries.
    at = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=2)
    with sessions.begin() as session:
        insert(session, [raw(at, application_id='=HYPERLINK("http://x")', version="@SUM(A1)")])
        insert(session, [raw(at, application_id="+1+1", version="-2+3")])
        rollup(session)
    query = "granularity=hour&group_by=version,application"
    response = world.client.get(f"/admin/analytics/export?{query}", headers=world.platform)
    parsed = sorted(
        (r["version"], r["application"], r["calls"]) for r in csv.DictReader(io.StringIO(response.text))
    )
    assert parsed == [("'-2+3", "'+1+1", "1"), ("'@SUM(A1)", '\'=HYPERLINK("http://x")', "1")]


def test_top_applications_and_health(traffic: World) -> None:
    top = traffic.client.get("/admin/analytics/top-applications", headers=traffic.ops).json()["rows"]
    assert [(t["application"], t["calls"]) for t in top] == [("app-1", 42), ("app-9", 3)]
    health = traffic.client.get("/admin/health", headers=traffic.platform).json()
    assert [(s["service"], s["healthy"], s["circuit"]) for s in health["services"]] == [
        ("meteo.warnings.v1", False, "open")
    ]
    assert health["uptime"][0]["uptime_percent"] == 0.0
    assert traffic.client.get("/admin/health", headers=traffic.admin_a).json()["services"] == []


def test_metrics_in_prometheus_text(traffic: World) -> None:
    response = traffic.client.get("/metrics", headers=traffic.ops)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["agora_config_revision"].samples[0].value >= 1
    up = families["agora_upstream_up"].samples
    assert [(s.labels["service"], s.value) for s in up] == [("meteo.warnings.v1", 0.0)]
    assert traffic.client.get("/metrics", headers=traffic.admin_a).status_code == 403
    assert traffic.client.get("/metrics").status_code == 401
