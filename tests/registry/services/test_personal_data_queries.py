"""Reading the log of accesses to personal data: a citizen finds exactly their own rows (under every key
of the ring), an agency exactly its own APIs' rows, with the period, organisation, application and API
filters; the CSV and JSON exports carry the same fields, and the CSV cannot inject a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput
from agora.pseudonyms import KeyRing
from registry.models import AccessLevel
from registry.services import agencies, apis
from registry.services.personal_data_export import FIELDS, to_csv, to_json
from registry.services.personal_data_labels import labels
from registry.services.personal_data_queries import (
    AccessFilter,
    agency_accesses,
    agency_applications,
    citizen_accesses,
    organisations,
    parse_filter,
    parse_period,
    subject_pseudonyms,
)
from tests.registry.access_rows import ALICE, BOB, RING, access


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def log(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Alice: three accesses (one recorded under the previous key, one refused), Bob: two, one of them
    through another agency's API."""
    old_ring = KeyRing((RING.keys[1],))  # before the rotation, k1 was the only (current) key
    with sessions.begin() as session:
        access(session, ALICE, ring=old_ring, at=_at(1), request_id="a-old-key")
        access(session, ALICE, at=_at(10), request_id="a-served", organisation="Town hall of Example")
        access(
            session, ALICE, at=_at(20), request_id="a-refused", status=403,
            organisation="Family allowance fund", application_name="Allowance checker",
            application_id="6f1c1c1e-0000-4000-8000-000000000002",
        )  # fmt: skip
        access(session, BOB, at=_at(15), request_id="b-served")
        access(session, BOB, at=_at(16), request_id="b-vehicles", agency="vehicles", api="registrations")
    return sessions


def _ids(rows: list[object]) -> list[str]:
    return [r.request_id for r in rows]  # type: ignore[attr-defined]


def test_a_citizen_finds_their_rows_under_every_key_newest_first(log: sessionmaker[Session]) -> None:
    with log() as session:
        alice = citizen_accesses(session, subject_pseudonyms(ALICE, RING))
        assert _ids(alice.rows) == ["a-refused", "a-served", "a-old-key"] and not alice.truncated
        # The same person, however the identifier is written (spaces, dots, dashes).
        spelled = citizen_accesses(session, subject_pseudonyms("284127510804236", RING))
        assert _ids(spelled.rows) == _ids(alice.rows)
        bob = citizen_accesses(session, subject_pseudonyms(BOB, RING))
        assert _ids(bob.rows) == ["b-vehicles", "b-served"]
        # Under the current key only, the row made before the rotation would be lost.
        only_current = citizen_accesses(session, [RING.pseudonym(ALICE)])
        assert "a-old-key" not in _ids(only_current.rows)


def test_no_pseudonym_finds_nothing_never_everything(log: sessionmaker[Session]) -> None:
    with log() as session:
        assert citizen_accesses(session, []).rows == []
        assert agency_accesses(session, "benefits", subject=[]).rows == []
        assert organisations(session, pseudonyms=[]) == []
        # A pseudonym under the wrong key id is another person.
        _, hexa = RING.pseudonym(ALICE)
        assert citizen_accesses(session, [("k1", hexa)]).rows == []


def test_period_and_organisation_filters(log: sessionmaker[Session]) -> None:
    pseudonyms = subject_pseudonyms(ALICE, RING)
    with log() as session:
        march_10 = citizen_accesses(
            session, pseudonyms, AccessFilter(period=parse_period("2025-03-10", "2025-03-10"))
        )
        assert _ids(march_10.rows) == ["a-served"]  # `to` as a date includes that whole day
        since = citizen_accesses(
            session, pseudonyms, AccessFilter(period=parse_period("2025-03-10T12:00:00Z", None))
        )
        assert _ids(since.rows) == ["a-refused", "a-served"]  # an instant is inclusive from
        until = citizen_accesses(
            session, pseudonyms, AccessFilter(period=parse_period(None, "2025-03-10T12:00:00"))
        )
        assert _ids(until.rows) == ["a-old-key"]  # an instant is exclusive to
        fund = parse_filter({"organisation": " Family allowance fund "})
        assert _ids(citizen_accesses(session, pseudonyms, fund).rows) == ["a-refused"]
        assert organisations(session, pseudonyms=pseudonyms) == [
            "Family allowance fund",
            "Town hall of Example",
        ]


def test_bad_periods_and_identifiers_are_refused_precisely() -> None:
    with pytest.raises(InvalidInput, match="from must be a date"):
        parse_period("14/03/2025", None)
    with pytest.raises(InvalidInput, match="to must be a date"):
        parse_period(None, "2025-02-30")
    with pytest.raises(InvalidInput, match="from must be before to"):
        parse_period("2025-03-10", "2025-03-01")
    with pytest.raises(InvalidInput, match="organisation is longer than 200"):
        parse_filter({"organisation": "x" * 201})
    for bad in ("", " - . ", "1" * 129):
        with pytest.raises(InvalidInput, match="identifier must be 1 to 128"):
            subject_pseudonyms(bad, RING)


def test_an_agency_sees_its_apis_rows_with_its_filters(log: sessionmaker[Session]) -> None:
    with log() as session:
        everything = agency_accesses(session, "benefits")
        assert _ids(everything.rows) == ["a-refused", "b-served", "a-served", "a-old-key"]
        assert _ids(agency_accesses(session, "vehicles").rows) == ["b-vehicles"]
        assert agency_accesses(session, "nobody").rows == []
        by_app = parse_filter({"application": "6f1c1c1e-0000-4000-8000-000000000002"}, names=("application",))
        assert _ids(agency_accesses(session, "benefits", by_app).rows) == ["a-refused"]
        assert agency_accesses(session, "benefits", AccessFilter(api="other")).rows == []
        # A complaint: one person's rows only, under every key.
        alice = agency_accesses(session, "benefits", subject=subject_pseudonyms(ALICE, RING))
        assert _ids(alice.rows) == ["a-refused", "a-served", "a-old-key"]
        assert agency_accesses(session, "vehicles", subject=subject_pseudonyms(ALICE, RING)).rows == []
        capped = agency_accesses(session, "benefits", limit=2)
        assert _ids(capped.rows) == ["a-refused", "b-served"] and capped.truncated
        assert agency_applications(session, "benefits") == [
            ("6f1c1c1e-0000-4000-8000-000000000002", "Allowance checker"),
            ("6f1c1c1e-0000-4000-8000-000000000001", "Housing aid desk"),
        ]
        assert organisations(session, agency="vehicles") == ["Town hall of Example"]


def test_an_agencys_filter_choices_are_read_over_a_period(log: sessionmaker[Session]) -> None:
    """The console reads its choices over a window, not the agency's whole log."""
    with log() as session:
        assert organisations(session, agency="benefits") == ["Family allowance fund", "Town hall of Example"]
        before_the_20th = parse_period("2025-03-01", "2025-03-19")
        assert organisations(session, agency="benefits", period=before_the_20th) == ["Town hall of Example"]
        assert agency_applications(session, "benefits", period=before_the_20th) == [
            ("6f1c1c1e-0000-4000-8000-000000000001", "Housing aid desk")
        ]
        from_the_20th = parse_period("2025-03-20", None)
        assert organisations(session, agency="benefits", period=from_the_20th) == ["Family allowance fund"]
        assert agency_applications(session, "benefits", period=parse_period("2026-01-01", None)) == []


def test_csv_and_json_carry_the_same_fields(log: sessionmaker[Session]) -> None:
    with log() as session:
        found = citizen_accesses(session, subject_pseudonyms(ALICE, RING))
        filters = AccessFilter(period=parse_period("2025-03-01", None))
        document = json.loads(to_json(found, filters))
        table = list(csv.DictReader(io.StringIO(to_csv(found.rows))))
    assert document["count"] == 3 and document["truncated"] is False
    assert document["filters"]["from"] == "2025-03-01T00:00:00+00:00"
    assert [list(row) for row in document["accesses"]] == [list(FIELDS)] * 3
    assert [list(row) for row in table] == [list(FIELDS)] * 3
    for as_json, as_csv in zip(document["accesses"], table, strict=True):
        assert as_csv["categories"] == "; ".join(as_json["categories"])
        assert as_csv["status"] == str(as_json["status"])
        assert {
            k: ("" if v is None else v) for k, v in as_json.items() if k not in ("categories", "status")
        } == {k: v for k, v in as_csv.items() if k not in ("categories", "status")}
    refused = document["accesses"][0]
    assert (
        refused["outcome"] == "refused" and refused["status"] == 403 and refused["reference"] == "a-refused"
    )
    assert "subject" not in refused and "key_id" not in refused  # nothing that links rows to a person


def test_a_csv_cell_that_looks_like_a_formula_is_text(sessions: sessionmaker[Session]) -> None:
    # The cells themselves: tests/agora/test_csv_export.py.
    with sessions.begin() as session:
        row = access(
            session, ALICE, organisation="=cmd|' /C calc'!A0", application_name="@evil",
            purpose="-1+2", request_id="+ref", categories=["=x", "identity"],
        )  # fmt: skip
        parsed = next(csv.DictReader(io.StringIO(to_csv([row]))))
    assert parsed["organisation"] == "'=cmd|' /C calc'!A0"
    assert (
        parsed["application"] == "'@evil" and parsed["purpose"] == "'-1+2" and parsed["reference"] == "'+ref"
    )
    assert parsed["categories"] == "'=x; identity"


SPEC = """
openapi: 3.0.3
info: {title: Family entitlements, version: 1.0.0}
x-agora-personal-data:
  legal-bases:
    - {id: public-task, title: "Public task (GDPR art. 6(1)(e))", retention-days: 1825}
paths:
  /beneficiaries/{nir}/entitlements:
    get:
      operationId: getEntitlements
      summary: Entitlements of a beneficiary
      parameters: [{name: nir, in: path, required: true, schema: {type: string}}]
      x-agora-personal-data: {subject: {in: path, name: nir}, categories: [identity, entitlements]}
      responses: {"200": {description: ok}}
"""


def test_labels_name_what_the_rows_record(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        agencies.create_agency(session, slug="benefits", name="Benefits office", actor="t")
        apis.publish(
            session, agency_slug="benefits", spec=SPEC, filename="benefits.yaml", api_slug="entitlements",
            upstream="https://benefits.example.gov", access_level=AccessLevel.RESTRICTED, actor="t",
        )  # fmt: skip
        known = access(session, ALICE)
        gone = access(session, ALICE, version="0.9.0", operation_id="getOld", legal_basis="consent")
        found = labels(session, [known, gone])
    current = found[("benefits", "entitlements", "1.0.0")]
    assert (current.agency, current.api) == ("Benefits office", "Family entitlements")
    assert current.operation("getEntitlements") == "Entitlements of a beneficiary"
    assert current.legal_basis("public-task") == "Public task (GDPR art. 6(1)(e)) (public-task)"
    deleted = found[("benefits", "entitlements", "0.9.0")]  # no such version: the recorded ids
    assert (deleted.agency, deleted.api, deleted.operation("getOld"), deleted.legal_basis("consent")) == (
        "benefits", "entitlements", "getOld", "consent"
    )  # fmt: skip
