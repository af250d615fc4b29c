"""Public transparency: the open figures page and its CSV and JSON files (no sign-in, no personal data),
and the uptime badge of an API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from devportal.web.badge import badge_color, uptime_badge
from registry.analytics.rollup import rollup
from registry.models import HealthSample, utcnow
from tests.registry.analytics.helpers import insert, raw


def _traffic(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    minute = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    with sessions.begin() as session:
        insert(
            session,
            [
                raw(
                    now - timedelta(seconds=30 + i),
                    agency="commerce",
                    api="companies",
                    application_id="app-secret-id",
                    client_ip="203.0.113.0/24",
                )
                for i in range(7)
            ],
        )
        insert(session, [raw(now - timedelta(seconds=20), agency="commerce", api="companies", status=503)])
        rollup(session)
        for worker, healthy in (("w1", True), ("w2", True), ("w3", True), ("w4", False)):
            session.add(HealthSample(
                minute=minute, service="commerce.companies.v1", agency="commerce", api="companies",
                upstream="http://127.0.0.1:9102", worker=worker, probes=6, probes_ok=6 if healthy else 0,
                requests=0, failures=0, circuit="closed", healthy=healthy, updated_at=now,
            ))  # fmt: skip


def test_open_figures_without_sign_in_and_without_personal_data(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    _traffic(sessions)
    today = utcnow().date().isoformat()
    data = client.get("/transparency/daily.json").json()
    assert data["license"] == "CC0-1.0"
    assert data["rows"] == [
        {
            "day": today,
            "agency": "commerce",
            "api": "companies",
            "calls": 8,
            "server_errors": 1,
            "uptime_percent": 75.0,
        }
    ]
    response = client.get("/transparency/daily.csv?days=7")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows == [{k: str(v) for k, v in data["rows"][0].items()}]
    for body in (response.text, str(data), client.get("/transparency/").text):
        assert "app-secret-id" not in body and "203.0.113" not in body
    page = client.get("/transparency/")
    assert page.status_code == 200 and "commerce/companies" in page.text and "75.00%" in page.text
    assert client.get("/transparency/daily.json?days=9999").status_code == 422


def test_a_csv_cell_that_looks_like_a_formula_is_text(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    # The open file is the one most likely to be opened in a spreadsheet by someone who did not make it.
    with sessions.begin() as session:
        insert(session, [raw(utcnow() - timedelta(seconds=30), agency="=cmd|' /C calc'!A0", api="@SUM(A1)")])
        insert(session, [raw(utcnow() - timedelta(seconds=30), agency="-2+3", api="+1+1")])
        rollup(session)
    rows = list(csv.DictReader(io.StringIO(client.get("/transparency/daily.csv").text)))
    assert sorted((r["agency"], r["api"], r["calls"]) for r in rows) == [
        ("'-2+3", "'+1+1", "1"),
        ("'=cmd|' /C calc'!A0", "'@SUM(A1)", "1"),
    ]


def test_uptime_badge(client: TestClient, sessions: sessionmaker[Session]) -> None:
    _traffic(sessions)
    badge = client.get("/status/commerce/companies/uptime.svg")
    assert badge.status_code == 200 and badge.headers["content-type"] == "image/svg+xml"
    assert "75.00%" in badge.text and badge_color(75.0) in badge.text
    assert "no data" in client.get("/status/cadastre/addresses/uptime.svg").text
    assert "&lt;" in uptime_badge(None, label="<x>") and "<x>" not in uptime_badge(None, label="<x>")
    assert badge_color(99.95) != badge_color(99.5) != badge_color(90.0)
