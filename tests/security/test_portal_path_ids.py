"""Issue 14, item 14 on the portal: an integer in a path that no row could have is a 422, never a 500.

The admin API's version is `test_admin_resource_limits.py::test_path_ids_out_of_range_are_422`; the
agency console's decision route (`/agency-console/grants/{grant_id:int}`) takes the same kind of id. Before,
the database was asked: 404 for 2^31, and past 64 bits a 422 whose detail was SQLite's driver message (a
500 before `unit_of_work` caught OverflowError); now the id is refused at the door, naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from examples.portal_seed import DEMO_AGENCY_ADMIN
from registry.models import AuditEvent
from tests.devportal.helpers import csrf, sign_in


@pytest.fixture
def console(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], tmp_path: Path
) -> Iterator[TestClient]:
    """The meteo agency admin, signed in to the portal. Server errors come back as answers, not raised:
    the test is about what a browser would see."""
    app = create_portal_app(settings, sessions, site_dir=tmp_path / "site", mailer=OutboxMailer(tmp_path))
    with TestClient(app, base_url="http://127.0.0.1:8002", raise_server_exceptions=False) as client:
        sign_in(client, DEMO_AGENCY_ADMIN, seeded["meteo_admin_portal_password"])
        yield client


@pytest.mark.parametrize("grant_id", ["2147483648", "9223372036854775808", "99999999999999999999999"])
def test_grant_ids_out_of_range_are_422_on_the_agency_console(
    console: TestClient, sessions: sessionmaker[Session], grant_id: str
) -> None:
    token = csrf(console, "/agency-console/meteo/")
    with sessions() as session:
        audited = len(session.scalars(select(AuditEvent.id)).all())
    response = console.post(
        f"/agency-console/grants/{grant_id}",
        data={"csrf_token": token, "decision": "approve", "reason": "probe"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "grant_id" in response.json()["detail"] and "out of range" in response.json()["detail"]
    page = console.post(
        f"/agency-console/grants/{grant_id}", data={"csrf_token": token, "decision": "approve"}
    )  # a browser gets the portal's error page, with the same status
    assert page.status_code == 422 and "out of range" in page.text
    with sessions() as session:
        assert len(session.scalars(select(AuditEvent.id)).all()) == audited  # nothing decided
