"""Usage per application, API and day, read from usage_records: chart data, table and JSON."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from registry.models import UsageRecord, utcnow
from registry.unit_of_work import change
from tests.devportal.helpers import create_app, sign_up


def _record(app_id: str, n: int, status: int = 200, days_ago: int = 0) -> UsageRecord:
    return UsageRecord(
        request_id=f"req-{app_id[:8]}-{n}-{days_ago}",
        at=utcnow() - timedelta(days=days_ago),
        agency="commerce",
        api="companies",
        version="1.0.0",
        application_id=app_id,
        status=status,
        latency_ms=12.0,
    )


def test_usage_page_charts_and_tables_own_calls_only(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session], seeded: dict[str, str]
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "metered")
    with change(sessions) as session:
        session.add_all([_record(app_id, n) for n in range(3)])
        session.add_all([_record(app_id, 9, status=502, days_ago=1)])
        session.add(_record(seeded["demo_application_id"], 1))  # someone else's call
    page = client.get("/account/usage").text
    data = json.loads(
        re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', page, re.S)[1]
    )
    today, yesterday = utcnow().date().isoformat(), (utcnow().date() - timedelta(days=1)).isoformat()
    assert [(r["day"], r["application"], r["calls"], r["errors"]) for r in data] == [
        (yesterday, "metered", 1, 1),
        (today, "metered", 3, 0),
    ]
    assert 'src="/assets/vendor/chart.js/chart.umd.min.js"' in page and 'id="usage-table"' in page
    body = client.get("/account/api/usage").json()
    assert sum(r["calls"] for r in body["rows"]) == 4


def test_usage_json_needs_a_session_and_answers_problem_json(client: TestClient) -> None:
    response = client.get("/account/api/usage")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unauthorized")
