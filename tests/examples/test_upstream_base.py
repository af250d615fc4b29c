"""What every example upstream shares: /health, request id echo, problem documents, parameter parsing."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from examples.upstreams import base
from examples.upstreams.params import query_int


async def count(request: Request) -> JSONResponse:
    return JSONResponse({"n": query_int(request, "n", default=1, minimum=0, maximum=9)})


async def broken(request: Request) -> JSONResponse:
    raise RuntimeError("boom")


@pytest.fixture
def client() -> TestClient:
    app = base.create_app("tiny", [Route("/count", count), Route("/broken", broken)])
    return TestClient(app, raise_server_exceptions=False)


def test_health_names_the_service(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "tiny"}


def test_request_id_is_echoed_and_never_invented(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "req-42"}).headers["x-request-id"] == "req-42"
    assert client.get("/nowhere", headers={"X-Request-ID": "req-43"}).headers["x-request-id"] == "req-43"
    assert "x-request-id" not in client.get("/health").headers


def test_unknown_path_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Nothing is published at /nowhere.",
        "instance": "/nowhere",
    }


def test_wrong_method_keeps_allow(client: TestClient) -> None:
    response = client.post("/count")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    # Starlette builds Allow from a set, so its order varies from run to run.
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert (
        response.json()["detail"] == f"POST is not allowed on /count; allowed: {response.headers['allow']}."
    )


def test_crash_is_a_problem_document_without_internals(client: TestClient) -> None:
    response = client.get("/broken")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "boom" not in response.text


@pytest.mark.parametrize("raw", ["x", " 5", "5_0", "\u0665", "1e3", ""])
def test_non_integers_name_the_parameter(client: TestClient, raw: str) -> None:
    response = client.get("/count", params={"n": raw})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"name": "n", "reason": "not an integer"}]


@pytest.mark.parametrize("raw", ["10", "-1"])
def test_out_of_range_integers_name_the_bounds(client: TestClient, raw: str) -> None:
    response = client.get("/count", params={"n": raw})
    assert response.status_code == 422
    assert response.json()["detail"] == "n must be between 0 and 9."


def test_good_integers(client: TestClient) -> None:
    assert client.get("/count", params={"n": "+7"}).json() == {"n": 7}
    assert client.get("/count").json() == {"n": 1}
