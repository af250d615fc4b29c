"""The cadastre's address lookup answers as `examples/specs/addresses.yaml` says."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from examples.upstreams import addresses
from tests.examples.spec_checks import Spec, load_spec


@pytest.fixture
def client() -> TestClient:
    return TestClient(addresses.create_app())


@pytest.fixture
def spec() -> Spec:
    return load_spec("addresses")


def test_data_set_is_thirty_unique_deterministic_addresses() -> None:
    assert len(addresses.ADDRESSES) == 30
    assert len({a.id for a in addresses.ADDRESSES}) == 30
    assert addresses._generate() == addresses.ADDRESSES


def test_search_needs_every_word_in_any_order(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/addresses", client.get("/addresses", params={"q": "5 HARBOUR"}))
    assert [item["label"] for item in body["items"]] == ["Harbour Street 5, 1011 Northport"]
    assert body["total"] == 1


def test_search_limits_items_but_counts_all(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/addresses", client.get("/addresses", params={"q": "eastvale", "limit": 3}))
    assert len(body["items"]) == 3
    assert body == {**body, "total": 10, "limit": 3}


def test_search_without_words_lists_everything(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/addresses", client.get("/addresses", params={"limit": 100}))
    assert body["total"] == len(body["items"]) == 30


def test_search_finding_nothing_is_an_empty_page(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/addresses", client.get("/addresses", params={"q": "atlantis"}))
    assert body == {"items": [], "total": 0, "limit": 10}


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_bad_limit_is_a_422_problem(client: TestClient, spec: Spec, limit: str) -> None:
    response = client.get("/addresses", params={"limit": limit})
    assert response.status_code == 422
    body = spec.check("GET", "/addresses", response)
    assert body["errors"][0]["name"] == "limit"


def test_get_address(client: TestClient, spec: Spec) -> None:
    response = client.get("/addresses/0332-02-006")
    body = spec.check("GET", "/addresses/{address_id}", response)
    assert body["label"] == "Church Street 6, 3321 Lindenholm"
    assert body["municipality"] == {"code": "0332", "name": "Lindenholm"}


def test_unknown_address_is_a_404_problem(client: TestClient, spec: Spec) -> None:
    response = client.get("/addresses/0101-01-002")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = spec.check("GET", "/addresses/{address_id}", response)
    assert body["instance"] == "/addresses/0101-01-002"


def test_municipalities_and_their_streets(client: TestClient, spec: Spec) -> None:
    listed = spec.check("GET", "/municipalities", client.get("/municipalities"))
    assert [m["code"] for m in listed["items"]] == ["0101", "0214", "0332"]
    for municipality in listed["items"]:
        response = client.get(f"/municipalities/{municipality['code']}/streets")
        streets = spec.check("GET", "/municipalities/{code}/streets", response)
        assert sum(len(s["house_numbers"]) for s in streets["items"]) == municipality["address_count"]


def test_unknown_municipality_is_a_404_problem(client: TestClient, spec: Spec) -> None:
    response = client.get("/municipalities/9999/streets")
    assert response.status_code == 404
    spec.check("GET", "/municipalities/{code}/streets", response)
