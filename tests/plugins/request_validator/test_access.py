"""request-validator end to end: the companies spec opts in per operation (and, as the `mirror` API, for the
whole document), the real registry compiles the snapshot, a real gateway checks requests before the real
companies upstream (or the harness's echo upstream, which shows the body bytes it received)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.integration.gateway_harness import GatewayProcess, StartGateway
from tests.plugins.request_validator.companies_stack import companies_spec, compile_registry, serve_companies

pytestmark = pytest.mark.integration

COMPANIES, MIRROR = "/commerce/companies/v1", "/commerce/mirror/v1"
VALIDATE = {"name": "request-validator", "config": {"max_body_bytes": 2048}}
FILING = {"type": "annual-accounts", "submitted_by": "Aino Virtanen", "period_end": "2024-12-31"}


@pytest.fixture(scope="module")
def gateway(
    start_gateway: StartGateway,
    upstream: str,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    per_operation = companies_spec()
    per_operation["paths"]["/companies"]["get"]["x-agora-plugins"] = [VALIDATE]
    per_operation["paths"]["/companies/{company_id}/filings"]["post"]["x-agora-plugins"] = [VALIDATE]
    whole_api = companies_spec()
    whole_api["x-agora-plugins"] = [VALIDATE]
    with serve_companies() as companies:
        document = compile_registry(
            sqlite_template,
            tmp_path_factory.mktemp("registry"),
            {"companies": (per_operation, companies), "mirror": (whole_api, upstream + "/echo")},
        )
        yield start_gateway(document)


def post_filing(
    gateway: GatewayProcess, prefix: str, company: str, body: bytes, **headers: str
) -> httpx.Response:
    headers = {"Content-Type": "application/json", **headers}
    return httpx.post(
        f"{gateway.url}{prefix}/companies/{company}/filings", content=body, headers=headers, timeout=10
    )


def violations(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["type"].endswith("/invalid-request")
    assert problem["detail"].endswith(f"({len(problem['errors'])} violation(s))")
    return [(e["location"], e["message"]) for e in problem["errors"]]


def test_valid_filing_reaches_the_upstream(gateway: GatewayProcess) -> None:
    response = post_filing(gateway, COMPANIES, "RC100001", json.dumps(FILING).encode())
    assert response.status_code == 201, response.text
    assert response.json()["submitted_by"] == "Aino Virtanen"


def test_the_body_reaches_the_upstream_byte_for_byte(gateway: GatewayProcess) -> None:
    body = json.dumps(FILING, indent=3).encode() + b"\n"  # any spacing: the bytes are not re-serialised
    echoed = post_filing(gateway, MIRROR, "RC100001", body).json()
    assert echoed["bytes"] == len(body) and echoed["sha256"] == hashlib.sha256(body).hexdigest()


def test_each_violation_is_listed_with_its_location(gateway: GatewayProcess) -> None:
    body = {"type": "tax-return", "period_end": "31/12/2024", "note": 7, "signed": True}
    found = violations(post_filing(gateway, COMPANIES, "RC1", json.dumps(body).encode()))
    assert found == [
        ("path.company_id", "'RC1' does not match '^RC[0-9]{6}$'"),
        ("body", "'submitted_by' is a required property"),
        ("body", "Additional properties are not allowed ('signed' was unexpected)"),
        ("body/note", "7 is not of type 'string'"),
        ("body/period_end", "'31/12/2024' is not a 'date'"),
        (
            "body/type",
            "'tax-return' is not one of "
            "['annual-accounts', 'change-of-address', 'change-of-officers', 'dissolution-notice']",
        ),
    ]


def test_query_parameters_are_typed_and_bounded(gateway: GatewayProcess) -> None:
    ok = httpx.get(gateway.url + COMPANIES + "/companies", params={"limit": "3", "name": "port"})
    assert ok.status_code == 200 and ok.json()["limit"] == 3
    bad = httpx.get(gateway.url + COMPANIES + "/companies", params={"limit": "500", "name": "x" * 201})
    assert violations(bad) == [
        ("query.name", f"'{'x' * 201}' is too long"),
        ("query.limit", "500 is greater than the maximum of 100"),
    ]
    assert violations(httpx.get(gateway.url + COMPANIES + "/companies?limit=ten")) == [
        ("query.limit", "'ten' is not of type 'integer'")
    ]


def test_bodies_that_are_not_json_or_not_json_at_all(gateway: GatewayProcess) -> None:
    broken = violations(post_filing(gateway, COMPANIES, "RC100001", b'{"type": '))
    assert [location for location, _ in broken] == ["body"] and broken[0][1].startswith("is not valid JSON")
    text = violations(post_filing(gateway, COMPANIES, "RC100001", b"hello", **{"Content-Type": "text/plain"}))
    assert text == [("header.Content-Type", "text/plain is not accepted here (accepted: application/json)")]
    assert violations(post_filing(gateway, COMPANIES, "RC100001", b"")) == [
        ("body", "a request body is required")
    ]


def test_body_over_the_validators_limit_is_413(gateway: GatewayProcess) -> None:
    huge = json.dumps({**FILING, "note": "x" * 3000}).encode()
    response = post_filing(gateway, COMPANIES, "RC100001", huge)
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"


def test_operations_without_the_opt_in_are_not_checked(gateway: GatewayProcess) -> None:
    # getCompany did not opt in: a malformed id goes to the upstream, which answers 404 itself.
    response = httpx.get(gateway.url + COMPANIES + "/companies/RC1")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert "RC1" in response.json()["detail"]
    # The whole-document opt-in covers it on the mirror API.
    assert violations(httpx.get(gateway.url + MIRROR + "/companies/RC1")) == [
        ("path.company_id", "'RC1' does not match '^RC[0-9]{6}$'")
    ]
