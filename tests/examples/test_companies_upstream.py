"""The company register answers as `examples/specs/companies.yaml` says, filings and /slow included."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from examples.upstreams import companies
from tests.examples.spec_checks import Spec, is_valid, load_spec

FILINGS = "/companies/{company_id}/filings"


@pytest.fixture
def client() -> TestClient:
    return TestClient(companies.create_app())


@pytest.fixture
def spec() -> Spec:
    return load_spec("companies")


def test_search_by_part_of_the_name_ignoring_case(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/companies", client.get("/companies", params={"name": "LTD"}))
    assert body["total"] == 4
    assert all("Ltd" in company["name"] for company in body["items"])


def test_search_without_name_lists_all(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/companies", client.get("/companies", params={"limit": 100}))
    assert body["total"] == len(companies.COMPANIES)


def test_get_company_and_officers(client: TestClient, spec: Spec) -> None:
    company = spec.check("GET", "/companies/{company_id}", client.get("/companies/RC100006"))
    assert (company["status"], company["dissolved_on"]) == ("dissolved", "2021-12-31")
    officers = spec.check(
        "GET", "/companies/{company_id}/officers", client.get("/companies/RC100006/officers")
    )
    assert officers["items"] and all(o["resigned_on"] == "2021-12-31" for o in officers["items"])
    assert all(company["registered_on"] < o["appointed_on"] for o in officers["items"])


@pytest.mark.parametrize(
    ("method", "template", "path"),
    [
        ("GET", "/companies/{company_id}", "/companies/RC999999"),
        ("GET", "/companies/{company_id}/officers", "/companies/RC999999/officers"),
        ("GET", FILINGS, "/companies/RC999999/filings"),
        ("GET", FILINGS + "/{filing_id}", "/companies/RC100001/filings/FIL-999999"),
    ],
)
def test_unknown_ids_are_404_problems(
    client: TestClient, spec: Spec, method: str, template: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    spec.check(method, template, response)


def test_filing_is_created_then_readable(client: TestClient, spec: Spec) -> None:
    example = spec.doc["paths"][FILINGS]["post"]["requestBody"]["content"]["application/json"]["example"]
    response = client.post("/companies/RC100003/filings", json=example)
    assert response.status_code == 201
    created = spec.check("POST", FILINGS, response)
    assert created == {**example, **created, "company_id": "RC100003", "status": "received"}
    assert response.headers["location"] == f"/companies/RC100003/filings/{created['id']}"

    again = spec.check("GET", FILINGS + "/{filing_id}", client.get(response.headers["location"]))
    listed = spec.check("GET", FILINGS, client.get("/companies/RC100003/filings"))
    assert again == created and listed["items"] == [created]


def test_minimal_filing_has_null_optional_fields(client: TestClient, spec: Spec) -> None:
    response = client.post(
        "/companies/RC100001/filings", json={"type": "change-of-address", "submitted_by": "A"}
    )
    created = spec.check("POST", FILINGS, response)
    assert (created["period_end"], created["note"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["type", "submitted_by"]),
        ({"type": "tax-return", "submitted_by": "A"}, ["type"]),
        ({"type": "annual-accounts", "submitted_by": ""}, ["submitted_by"]),
        ({"type": "annual-accounts", "submitted_by": "A", "period_end": "31.12.2024"}, ["period_end"]),
        ({"type": "annual-accounts", "submitted_by": "A", "period_end": "20241231"}, ["period_end"]),
        ({"type": "annual-accounts", "submitted_by": "A", "note": "x" * 1001}, ["note"]),
        ({"type": "annual-accounts", "submitted_by": "A", "fee": 10}, ["fee"]),
        (["annual-accounts"], ["body"]),
    ],
)
def test_invalid_filings_are_rejected_as_the_spec_rejects_them(
    client: TestClient, spec: Spec, body: Any, fields: list[str]
) -> None:
    schema = spec.doc["components"]["schemas"]["FilingRequest"]
    assert not is_valid(body, schema)
    response = client.post("/companies/RC100001/filings", json=body)
    assert response.status_code == 422
    problem = spec.check("POST", FILINGS, response)
    assert sorted(error["name"] for error in problem["errors"]) == sorted(fields)


def test_body_that_is_not_json_is_a_400_problem(client: TestClient, spec: Spec) -> None:
    response = client.post(
        "/companies/RC100001/filings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    spec.check("POST", FILINGS, response)


def test_dissolved_company_takes_no_filings(client: TestClient, spec: Spec) -> None:
    response = client.post(
        "/companies/RC100006/filings", json={"type": "annual-accounts", "submitted_by": "A"}
    )
    assert response.status_code == 409
    spec.check("POST", FILINGS, response)


def test_filings_are_per_app_instance() -> None:
    first, second = TestClient(companies.create_app()), TestClient(companies.create_app())
    first.post("/companies/RC100001/filings", json={"type": "annual-accounts", "submitted_by": "A"})
    assert second.get("/companies/RC100001/filings").json()["items"] == []


def test_slow_waits_as_asked(client: TestClient, spec: Spec) -> None:
    started = time.monotonic()
    body = spec.check("GET", "/slow", client.get("/slow", params={"delay_ms": 200}))
    assert body == {"delay_ms": 200}
    assert time.monotonic() - started >= 0.2


def test_slow_caps_the_delay(client: TestClient, spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real cap is 5 s; a lower one keeps the test fast while exercising the same line.
    monkeypatch.setattr(companies, "MAX_DELAY_MS", 30)
    assert spec.check("GET", "/slow", client.get("/slow", params={"delay_ms": 60_000})) == {"delay_ms": 30}


def test_slow_refuses_negative_delays(client: TestClient, spec: Spec) -> None:
    response = client.get("/slow", params={"delay_ms": -5})
    assert response.status_code == 422
    spec.check("GET", "/slow", response)
