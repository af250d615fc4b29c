"""The weather warning service answers as `examples/specs/warnings.yaml` says, streaming included."""

from __future__ import annotations

import random

import anyio
import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from examples.upstreams import warnings
from tests.examples.spec_checks import Spec, load_spec

MIB = 1024 * 1024


@pytest.fixture
def client() -> TestClient:
    return TestClient(warnings.create_app())


@pytest.fixture
def spec() -> Spec:
    return load_spec("warnings")


def test_regions_count_their_warnings(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/regions", client.get("/regions"))
    assert len(body["items"]) == len(warnings.REGIONS)
    assert sum(region["warning_count"] for region in body["items"]) == len(warnings.WARNINGS)


def test_region_warnings_filtered_by_level(client: TestClient, spec: Spec) -> None:
    template = "/regions/{region_id}/warnings"
    everything = spec.check("GET", template, client.get("/regions/south-archipelago/warnings"))
    red = spec.check(
        "GET", template, client.get("/regions/south-archipelago/warnings", params={"level": "red"})
    )
    assert [w["level"] for w in everything["items"]] == ["red", "yellow"]
    assert [w["id"] for w in red["items"]] == ["MW-2025-0003"]
    quiet = spec.check("GET", template, client.get("/regions/central-plains/warnings"))
    assert quiet == {"region": {"id": "central-plains", "name": "Central Plains"}, "items": []}


def test_unknown_level_is_a_422_problem(client: TestClient, spec: Spec) -> None:
    response = client.get("/regions/capital/warnings", params={"level": "purple"})
    assert response.status_code == 422
    assert spec.check("GET", "/regions/{region_id}/warnings", response)["errors"][0]["name"] == "level"


def test_get_warning(client: TestClient, spec: Spec) -> None:
    body = spec.check("GET", "/warnings/{warning_id}", client.get("/warnings/MW-2025-0009"))
    assert (body["kind"], body["onset"], body["expires"]) == (
        "cold",
        "2025-01-15T00:00:00Z",
        "2025-01-16T12:00:00Z",
    )


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/regions/{region_id}/warnings", "/regions/atlantis/warnings"),
        ("/warnings/{warning_id}", "/warnings/MW-1"),
    ],
)
def test_unknown_ids_are_404_problems(client: TestClient, spec: Spec, template: str, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    spec.check("GET", template, response)


def test_files_3_is_exactly_3_mib_of_the_documented_pattern(client: TestClient) -> None:
    with client.stream("GET", "/files/3") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert "content-length" not in response.headers  # chunked: the case a proxy must not buffer
        chunks = list(response.iter_raw())
    body = b"".join(chunks)
    assert len(body) == 3 * MIB
    assert len(chunks) > 1
    assert body == bytes(range(256)) * (3 * MIB // 256)


def test_files_0_is_empty(client: TestClient) -> None:
    response = client.get("/files/0")
    assert (response.status_code, response.content) == (200, b"")


def test_files_size_is_capped(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real cap is 512 MiB; a lower one keeps the test fast while exercising the same line.
    monkeypatch.setattr(warnings, "MAX_FILE_MB", 1)
    assert len(client.get("/files/600").content) == MIB


@pytest.mark.parametrize("size", ["-1", "two", "1.5"])
def test_files_size_must_be_a_whole_number(client: TestClient, spec: Spec, size: str) -> None:
    response = client.get(f"/files/{size}")
    assert response.status_code == 422
    spec.check("GET", "/files/{size_mb}", response)


def test_echo_returns_a_few_mib_byte_for_byte(client: TestClient) -> None:
    payload = random.Random(7).randbytes(5 * MIB + 123)
    response = client.post(
        "/echo", content=payload, headers={"content-type": "image/png", "x-request-id": "e1"}
    )
    assert response.status_code == 200
    assert response.content == payload
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-request-id"] == "e1"


def test_echo_of_nothing(client: TestClient) -> None:
    response = client.post("/echo")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-type"] == "application/octet-stream"


def test_echo_sends_each_chunk_back_before_the_next_arrives() -> None:
    """At the ASGI level: chunk n+1 is only offered once chunk n came back, so buffering would hang."""
    chunks = [b"a" * 70_000, b"b" * 10, b"c" * 3]
    echoed: list[bytes] = []
    messages: list[Message] = []
    came_back = [anyio.Event() for _ in chunks]

    offered = 0

    async def receive() -> Message:
        nonlocal offered
        n, offered = offered, offered + 1
        if n:
            with anyio.fail_after(2):
                await came_back[n - 1].wait()
        return {"type": "http.request", "body": chunks[n], "more_body": n < len(chunks) - 1}

    async def send(message: Message) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and message["body"]:
            echoed.append(message["body"])
            came_back[len(echoed) - 1].set()

    scope = {"type": "http", "method": "POST", "path": "/echo", "headers": [(b"content-type", b"text/plain")]}
    anyio.run(warnings.Echo(), scope, receive, send)

    assert echoed == chunks
    assert messages[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain")],
    }
    assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
