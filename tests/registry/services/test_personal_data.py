"""Accesses to personal data in: validated (a pseudonym, never an identifier; the outcome its status
gives), written once per request id, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput
from agora.pseudonyms import KeyRing
from registry.models import PersonalDataAccess
from registry.services import personal_data

RING = KeyRing.parse("t1:" + "11" * 32)
KEY_ID, SUBJECT = RING.pseudonym("1 85 05 75 123 456 78")


def access(request_id: str = "gw-1", **changes: Any) -> dict[str, Any]:
    return {
        "request_id": request_id, "at": 1_767_225_600.25, "subject": SUBJECT, "key_id": KEY_ID,
        "agency": "benefits", "api": "entitlements", "version": "1.0.0", "operation_id": "getEntitlements",
        "application_id": "app-caf", "application_name": "caf-portal", "organisation": "CAF",
        "categories": ["identity", "entitlements"], "purpose": "Housing aid", "legal_basis": "public-task",
        "status": 200, "outcome": "served", "retention_days": 1825, **changes,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "outcome"), [(200, "served"), (304, "served"), (403, "refused"), (404, "refused"),
                            (499, "failed"), (502, "failed"), (0, "failed")],
)  # fmt: skip
def test_outcome_of_a_status(status: int, outcome: str) -> None:
    assert personal_data.outcome_of(status) == outcome


def test_rows_are_written_once_per_request_id(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        result = personal_data.ingest(
            session, {"records": [access("gw-1"), access("gw-2", status=403, outcome="refused")]}
        )
    assert (result.received, result.inserted) == (2, 2)
    with sessions.begin() as session:  # a retried batch, and a batch repeating one id
        assert (
            personal_data.ingest(
                session, {"records": [access("gw-1"), access("gw-3"), access("gw-3")]}
            ).inserted
            == 1
        )
    with sessions() as session:
        rows = list(session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.request_id)))
    assert [r.request_id for r in rows] == ["gw-1", "gw-2", "gw-3"]
    first = rows[0]
    assert (first.subject, first.key_id, first.categories) == (SUBJECT, "t1", ["identity", "entitlements"])
    assert first.at.replace(tzinfo=None).isoformat() == "2026-01-01T00:00:00.250000"
    assert (rows[1].status, rows[1].outcome) == (403, "refused")


def test_an_identifier_in_clear_is_refused(sessions: sessionmaker[Session]) -> None:
    for subject in ("185057512345678", "1 85 05 75 123 456 78", SUBJECT.upper(), SUBJECT[:-1]):
        with (
            sessions.begin() as session,
            pytest.raises(InvalidInput, match="/records/0/subject: expected a pseudonym"),
        ):
            personal_data.ingest(session, {"records": [access(subject=subject)]})


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"outcome": "served", "status": 403}, "/records/1/outcome"),
        ({"status": 99}, "/records/1/status"),
        ({"retention_days": 0}, "/records/1/retention_days"),
        ({"retention_days": True}, "/records/1/retention_days"),
        ({"categories": "identity"}, "/records/1/categories"),
        ({"categories": [""]}, "/records/1/categories"),
        ({"agency": ""}, "/records/1/agency"),
        ({"application_name": "x" * 201}, "/records/1/application_name"),
        ({"at": "yesterday"}, "/records/1/at"),
        ({"key_id": None}, "/records/1/key_id"),
    ],
)
def test_a_bad_record_refuses_the_batch(
    sessions: sessionmaker[Session], changes: dict[str, Any], where: str
) -> None:
    with sessions.begin() as session, pytest.raises(InvalidInput, match=where):
        personal_data.ingest(session, {"records": [access("ok"), access("bad", **changes)]})
    with sessions() as session:
        assert session.scalars(select(PersonalDataAccess)).first() is None


def test_optional_fields_and_the_batch_shape(sessions: sessionmaker[Session]) -> None:
    anonymous = access(application_id=None, operation_id=None, purpose=None, legal_basis=None)
    del anonymous["outcome"]  # derived from the status when absent
    with sessions.begin() as session:
        assert personal_data.ingest(session, {"records": [anonymous]}).inserted == 1
    with sessions() as session:
        row = session.scalars(select(PersonalDataAccess)).one()
    assert (row.application_id, row.operation_id, row.purpose, row.legal_basis, row.outcome) == (
        None, None, "", "", "served",
    )  # fmt: skip
    with sessions.begin() as session, pytest.raises(InvalidInput, match="records"):
        personal_data.ingest(session, [access()])
    too_many = {"records": [access(f"r{i}") for i in range(personal_data.MAX_BATCH + 1)]}
    with sessions.begin() as session, pytest.raises(InvalidInput, match="at most 10000"):
        personal_data.ingest(session, too_many)
