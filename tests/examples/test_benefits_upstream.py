"""The family benefits register answers as `examples/specs/benefits.yaml` says, for each demo person."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from examples.upstreams import benefits
from tests.examples.spec_checks import Spec, load_spec

ENTITLEMENTS = "/beneficiaries/{nir}/entitlements"


@pytest.fixture
def client() -> TestClient:
    return TestClient(benefits.create_app())


@pytest.fixture
def spec() -> Spec:
    return load_spec("entitlements")


def test_every_demo_nir_is_well_formed_with_its_control_key() -> None:
    nirs = [person.nir for person in benefits.BENEFICIARIES]
    assert len(nirs) == len(set(nirs)) == 5
    for nir in nirs:
        assert len(nir) == 15 and nir.isdigit() and nir[0] in "12"
        assert nir[13:] == benefits.nir_key(nir[:13])
    assert benefits.nir_key("1850575123456") == "73"  # 97 - 1850575123456 % 97, worked out by hand


@pytest.mark.parametrize("person", benefits.BENEFICIARIES, ids=lambda p: p.given_names)
def test_each_person_gets_their_own_record(
    client: TestClient, spec: Spec, person: benefits.Beneficiary
) -> None:
    body = spec.check("GET", ENTITLEMENTS, client.get(f"/beneficiaries/{person.nir}/entitlements"))
    assert body["beneficiary"] == {
        "nir": person.nir,
        "family_name": person.family_name,
        "given_names": person.given_names,
        "birth_date": person.birth_date.isoformat(),
    }
    assert len(body["household"]["dependent_children"]) == len(person.children)
    assert [e["benefit"] for e in body["entitlements"]] == [e.benefit_id for e in person.entitlements]
    known = {b.id for b in benefits.BENEFITS}
    assert {e["benefit"] for e in body["entitlements"]} <= known
    assert body["as_of"] == "2025-01-31"


def test_entitlements_filtered_by_status(client: TestClient, spec: Spec) -> None:
    jean = "/beneficiaries/158073306320158/entitlements"
    everything = spec.check("GET", ENTITLEMENTS, client.get(jean))
    assert [(e["benefit"], e["status"], e["end_date"]) for e in everything["entitlements"]] == [
        ("disabled-adult", "active", None),
        ("housing-aid", "ended", "2023-06-30"),
    ]
    ended = spec.check("GET", ENTITLEMENTS, client.get(jean, params={"status": "ended"}))
    assert [e["benefit"] for e in ended["entitlements"]] == ["housing-aid"]
    active = spec.check("GET", ENTITLEMENTS, client.get(jean, params={"status": "active"}))
    assert [e["benefit"] for e in active["entitlements"]] == ["disabled-adult"]
    assert active["beneficiary"] == everything["beneficiary"]  # the filter narrows entitlements only


def test_unknown_nir_is_a_404_problem_that_does_not_repeat_it(client: TestClient, spec: Spec) -> None:
    response = client.get("/beneficiaries/185057512345673/entitlements")  # well formed, nobody's
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = spec.check("GET", ENTITLEMENTS, response)
    assert body["detail"] == "No beneficiary is registered under this NIR."
    assert "185057512345673" not in body["detail"]


@pytest.mark.parametrize(
    ("nir", "reason"),
    [
        ("185057512345678", "its control key (last two digits) does not match"),
        ("385057512345678", "not 15 digits starting with 1 or 2"),
        ("18505751234567", "not 15 digits starting with 1 or 2"),
        ("1 85 05 75 123 456 73", "not 15 digits starting with 1 or 2"),
        ("\uff1185057512345673", "not 15 digits starting with 1 or 2"),  # a full-width digit one
    ],
)
def test_malformed_nir_is_a_422_problem_naming_it(
    client: TestClient, spec: Spec, nir: str, reason: str
) -> None:
    response = client.get(f"/beneficiaries/{nir}/entitlements")
    assert response.status_code == 422
    body = spec.check("GET", ENTITLEMENTS, response)
    assert body["errors"] == [{"name": "nir", "reason": reason}]


def test_unknown_status_is_a_422_problem(client: TestClient, spec: Spec) -> None:
    response = client.get("/beneficiaries/285057505612338/entitlements", params={"status": "paid"})
    assert response.status_code == 422
    assert spec.check("GET", ENTITLEMENTS, response)["errors"][0]["name"] == "status"


def test_benefit_kinds(client: TestClient, spec: Spec) -> None:
    listed = spec.check("GET", "/benefits", client.get("/benefits"))
    assert [b["id"] for b in listed["items"]] == [b.id for b in benefits.BENEFITS]
    one = spec.check("GET", "/benefits/{benefit_id}", client.get("/benefits/young-child"))
    assert (one["name"], one["frequency"], one["means_tested"]) == ("Young child allowance", "monthly", True)
    missing = client.get("/benefits/pension")
    assert missing.status_code == 404
    assert (
        spec.check("GET", "/benefits/{benefit_id}", missing)["detail"] == "No benefit has the id 'pension'."
    )


def test_health_names_the_service(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "service": "entitlements"}
