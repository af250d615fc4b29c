"""The agency's audit of accesses to personal data (admin API): its own admins and platform admins only,
filters as query parameters, one person's accesses by the `Agora-Data-Subject` header (never the URL,
and written to the audit trail without the identifier), JSON or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.pseudonyms import KEYS_ENV
from agora.settings import Settings
from registry.models import AuditEvent, Role
from registry.services import agencies, tokens
from registry.services.personal_data_export import FIELDS
from registry.unit_of_work import change
from tests.registry.access_rows import ALICE, BOB, RING, RING_VALUE, access
from tests.registry.admin.conftest import World

PROBLEM = "application/problem+json"
URL = "/admin/agencies/cadastre/personal-data/accesses"


@pytest.fixture
def audited(
    world: World, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv(KEYS_ENV, RING_VALUE)
    with sessions.begin() as session:
        access(session, ALICE, agency="cadastre", api="addresses", request_id="c-alice",
               at=datetime(2025, 3, 10, tzinfo=UTC))  # fmt: skip
        access(session, BOB, agency="cadastre", api="addresses", request_id="c-bob", status=403,
               organisation="Family allowance fund", at=datetime(2025, 3, 12, tzinfo=UTC))  # fmt: skip
        access(session, ALICE, agency="meteo", api="warnings", request_id="m-alice")
    yield world


def _refs(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["reference"] for row in response.json()["accesses"]]


def _status(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


def test_the_agencys_admins_and_platform_admins_read_its_accesses(audited: World) -> None:
    c = audited.client
    own = c.get(URL, headers=audited.admin_a)
    assert _refs(own) == ["c-bob", "c-alice"]
    assert own.headers["cache-control"] == "no-store" and own.headers["agora-truncated"] == "false"
    first = own.json()["accesses"][0]
    assert list(first) == list(FIELDS) and first["outcome"] == "refused"
    assert _refs(c.get(URL, headers=audited.platform)) == ["c-bob", "c-alice"]
    assert _refs(c.get("/admin/agencies/meteo/personal-data/accesses", headers=audited.admin_b)) == [
        "m-alice"
    ]


def test_nobody_else_reads_them(audited: World) -> None:
    c = audited.client
    for headers in (audited.admin_b, audited.ops, audited.ingest):
        _status(c.get(URL, headers=headers), 403)
        _status(c.get(URL + ".csv", headers=headers), 403)
        _status(c.get(URL, headers={**headers, "Agora-Data-Subject": ALICE}), 403)
    _status(c.get("/admin/agencies/meteo/personal-data/accesses", headers=audited.admin_a), 403)
    _status(c.get(URL), 401)
    _status(c.get(URL, headers={"Authorization": "Bearer agoradm_forged"}), 401)
    _status(c.get("/admin/agencies/nowhere/personal-data/accesses", headers=audited.platform), 404)


def test_filters_as_query_parameters(audited: World) -> None:
    c = audited.client
    h = audited.admin_a
    assert _refs(c.get(URL + "?organisation=Family allowance fund", headers=h)) == ["c-bob"]
    assert _refs(c.get(URL + "?from=2025-03-11", headers=h)) == ["c-bob"]
    assert _refs(c.get(URL + "?to=2025-03-10", headers=h)) == ["c-alice"]
    app = "6f1c1c1e-0000-4000-8000-000000000001"
    assert _refs(c.get(URL + f"?application={app}&api=addresses", headers=h)) == ["c-bob", "c-alice"]
    assert _refs(c.get(URL + "?api=other", headers=h)) == []
    limited = c.get(URL + "?limit=1", headers=h)
    assert _refs(limited) == ["c-bob"] and limited.headers["agora-truncated"] == "true"
    assert limited.json()["truncated"] is True
    assert "from must be a date" in _status(c.get(URL + "?from=yesterday", headers=h), 422)["detail"]
    assert "limit must be" in _status(c.get(URL + "?limit=0", headers=h), 422)["detail"]


def test_a_complaint_by_header_never_by_url_and_audited_by_pseudonym(
    audited: World, sessions: sessionmaker[Session]
) -> None:
    c = audited.client
    h = audited.admin_a
    alice = c.get(URL, headers={**h, "Agora-Data-Subject": "284127510804236"})
    assert _refs(alice) == ["c-alice"]
    assert _refs(c.get(URL, headers={**h, "Agora-Data-Subject": BOB})) == ["c-bob"]
    assert _refs(c.get(URL, headers={**h, "Agora-Data-Subject": "1 00 00 00 000 000 00"})) == []
    for name in ("identifier", "subject"):
        detail = _status(c.get(URL + f"?{name}=284127510804236", headers=h), 422)["detail"]
        assert "Agora-Data-Subject header, never in the URL" in detail
    assert (
        "identifier must be" in _status(c.get(URL, headers={**h, "Agora-Data-Subject": " "}), 422)["detail"]
    )
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "personal-data.lookup")))
    assert [(e.actor, e.target, e.detail["rows"]) for e in events] == [
        ("token:admin-a", "cadastre", 1), ("token:admin-a", "cadastre", 1), ("token:admin-a", "cadastre", 0)
    ]  # fmt: skip
    assert events[0].detail["subject"] == RING.pseudonym(ALICE)[1] and events[0].detail["key_id"] == "k2"
    assert all("284127510804236" not in str(e.detail) and ALICE not in str(e.detail) for e in events)


def test_csv_by_route_or_accept(audited: World) -> None:
    c = audited.client
    h = audited.admin_a
    for response in (c.get(URL + ".csv", headers=h), c.get(URL, headers={**h, "Accept": "text/csv"})):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert 'filename="agora-personal-data-cadastre.csv"' in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["reference"] for r in rows] == ["c-bob", "c-alice"] and list(rows[0]) == list(FIELDS)
    one = c.get(URL + ".csv?organisation=Family allowance fund", headers={**h, "Agora-Data-Subject": BOB})
    assert [r["reference"] for r in csv.DictReader(io.StringIO(one.text))] == ["c-bob"]


def test_a_lookup_the_audit_trail_cannot_hold_is_refused_and_writes_nothing(
    audited: World, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The look-up writes its audit event in a write transaction: a value the trail cannot store (an
    actor past its 200 characters: a token named with 200) is a 422 saying so, and nothing is written."""
    with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite stores a string past its column's length")
    with change(sessions) as session:
        cadastre = agencies.get_agency(session, "cadastre")
        _, secret = tokens.create_token(
            session, name="a" * 200, role=Role.AGENCY_ADMIN, agencies=[cadastre], hmac_key=settings.hmac_key,
            actor="t",
        )  # fmt: skip
    long_named = {"Authorization": f"Bearer {secret}"}
    assert _refs(audited.client.get(URL, headers=long_named)) == [
        "c-bob",
        "c-alice",
    ]  # reading writes nothing
    detail = _status(audited.client.get(URL, headers={**long_named, "Agora-Data-Subject": ALICE}), 422)[
        "detail"
    ]
    assert detail.startswith("a value cannot be stored")
    with sessions() as session:
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action == "personal-data.lookup")).all() == []
        )
