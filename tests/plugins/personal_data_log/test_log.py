"""personal-data-log in the real pipeline (in process): one row per call with an identifiable subject,
pseudonymised under the current key, with the grant's purpose and legal basis; none without a subject,
none for a sandbox answer, none on an operation without personal data."""

from __future__ import annotations

import json

from registry.models import PersonalDataAccess
from tests.plugins.personal_data_log.conftest import (
    KEY,
    NIR_A,
    NIR_B,
    OTHER_KEY,
    RING,
    SANDBOX_KEY,
    Gateway,
)

PATH = "/benefits/entitlements/v1/beneficiaries/{}/entitlements"


def _clear(row: PersonalDataAccess) -> str:
    """Every column of the row, as text: what must never contain an identifier."""
    return json.dumps(
        {c.name: getattr(row, c.key) for c in PersonalDataAccess.__table__.columns}, default=str
    )


def test_each_call_of_a_declared_operation_is_one_row_under_a_pseudonym(gateway: Gateway) -> None:
    assert gateway.get(PATH.format("185057512345678"), apikey=KEY) == 200
    assert gateway.get(PATH.format("290121398765432"), apikey=KEY) == 200
    assert gateway.get(PATH.format("185057512345678"), apikey=KEY) == 200
    rows = gateway.rows()
    assert len(rows) == 3 and len({r.request_id for r in rows}) == 3
    a, b, again = rows
    assert (a.key_id, a.subject) == RING.pseudonym(NIR_A)  # the spaced form is the same person
    assert (b.key_id, b.subject) == RING.pseudonym(NIR_B) and again.subject == a.subject != b.subject
    assert a.key_id == "t1"  # the current key, never an older one
    assert (a.agency, a.api, a.version, a.operation_id) == (
        "benefits", "entitlements", "1.0.0", "get/beneficiaries/{nir}/entitlements",
    )  # fmt: skip
    assert (a.application_id, a.application_name, a.organisation) == (
        "app-caf", "caf-portal", "Caisse d'allocations familiales",
    )  # fmt: skip
    assert (a.purpose, a.legal_basis, a.retention_days) == (
        "Compute housing benefit",
        "legal-obligation",
        1095,
    )
    assert a.categories == ["identity", "entitlements"]
    assert (a.status, a.outcome) == (200, "served")
    for row in rows:
        text = _clear(row)
        assert "185057512345678" not in text and "290121398765432" not in text


def test_refusals_are_refused_and_failures_failed(gateway: Gateway) -> None:
    assert gateway.get(PATH.format("185057512345678"), apikey=OTHER_KEY) == 403  # no grant
    assert gateway.get(PATH.format("404"), apikey=KEY) == 404  # the agency found nobody: nothing read
    assert gateway.get(PATH.format("500"), apikey=KEY) == 500
    nosy, missing, broken = gateway.rows()
    assert (nosy.status, nosy.outcome, nosy.application_id) == (403, "refused", "app-other")
    assert (nosy.purpose, nosy.legal_basis, nosy.retention_days) == ("", "", 1825)  # no grant: the longest
    assert (missing.outcome, broken.outcome) == ("refused", "failed")


def test_no_application_identified_no_row(gateway: Gateway) -> None:
    """Anyone who knows a person's identifier could otherwise fill that person's page with attempts
    that read nothing and name nobody."""
    for _ in range(3):
        assert gateway.get(PATH.format("185057512345678")) == 401  # no key
        assert gateway.get(PATH.format("185057512345678"), apikey="not-a-key") == 401
        assert gateway.get("/benefits/entitlements/v1/entitlements?nir=185057512345678") == 401
        assert gateway.get("/benefits/entitlements/v1/me", x_subject="2 90 12 13 987 654 32") == 401
    assert gateway.upstream.requests == []
    assert gateway.rows() == []


def test_no_subject_no_sandbox_no_declaration_no_row(gateway: Gateway) -> None:
    assert gateway.get("/benefits/entitlements/v1/entitlements", apikey=KEY) == 200  # ?nir= missing
    assert gateway.get("/benefits/entitlements/v1/entitlements?nir=", apikey=KEY) == 200  # empty
    assert gateway.get("/benefits/entitlements/v1/me", apikey=KEY) == 200  # no X-Subject
    assert gateway.get("/benefits/entitlements/v1/offices", apikey=KEY) == 200  # declares nothing
    assert gateway.get(PATH.format("185057512345678"), apikey=SANDBOX_KEY) == 200  # examples, nobody's data
    assert len(gateway.upstream.requests) == 4
    assert gateway.rows() == []


def test_query_and_header_subjects(gateway: Gateway) -> None:
    assert gateway.get("/benefits/entitlements/v1/entitlements?nir=185057512345678", apikey=KEY) == 200
    assert gateway.get("/benefits/entitlements/v1/me", apikey=KEY, x_subject="2 90 12 13 987 654 32") == 200
    by_query, by_header = gateway.rows()
    assert by_query.subject == RING.pseudonym(NIR_A)[1] and by_query.operation_id == "get/entitlements"
    assert by_header.subject == RING.pseudonym(NIR_B)[1] and by_header.operation_id == "get/me"
