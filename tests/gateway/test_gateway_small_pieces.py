"""The small pieces alone: sandbox samples, lifecycle headers, request ids, problems, settings, CLI."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

from agora.errors import NotFound
from gateway.cli import gateway as gateway_command
from gateway.context import context_of
from gateway.lifecycle import deprecation_headers, successor_of
from gateway.model import parse_snapshot
from gateway.problems import ProblemMiddleware
from gateway.request_id import RequestIdMiddleware
from gateway.sandbox import sample_from_schema
from gateway.settings import GatewaySettings
from gateway.types import Message, Receive, Scope, Send


def test_sample_from_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "kind": {"enum": ["a", "b"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "n": {"type": ["integer", "null"], "minimum": 3},
            "given": {"type": "string", "example": "ex"},
            "both": {
                "allOf": [
                    {"properties": {"a": {"type": "boolean"}}},
                    {"properties": {"b": {"type": "number"}}},
                ]
            },
            "either": {"oneOf": [{"type": "string", "format": "date"}, {"type": "integer"}]},
        },
    }
    assert sample_from_schema(schema) == {
        "id": "00000000-0000-4000-8000-000000000000",
        "kind": "a",
        "tags": ["string"],
        "n": 3,
        "given": "ex",
        "both": {"a": True, "b": 0.0},
        "either": "2024-01-01",
    }


def _service(**extra: Any) -> Any:
    base = {"name": "a.b.v1", "prefix": "/a/b/v1", "routes": [], "changelog": "/a/b/changelog/"}
    return parse_snapshot({"format": 1, "services": [{**base, **extra}]}).services[0]


def test_deprecation_headers() -> None:
    service = _service(
        status="deprecated", sunset="2030-01-01", deprecated_at="2025-01-01", successor="a.b.v2"
    )
    successor = successor_of(service, {"a.b.v2": "/a/b/v2"})
    assert successor == "/a/b/v2"
    assert dict(deprecation_headers(service, successor)) == {
        b"deprecation": b"@1735689600",
        b"sunset": b"Tue, 01 Jan 2030 00:00:00 GMT",
        b"link": b'</a/b/changelog/>; rel="deprecation"; type="text/html", '
        b'</a/b/v2>; rel="successor-version"',
    }
    assert deprecation_headers(_service(), None) == []
    assert successor_of(_service(successor="/x/y/v9"), {}) == "/x/y/v9"


async def _run(app: Any, headers: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/p",
        "headers": headers or [],
        "client": ("1.2.3.4", 1),
    }
    await app(scope, receive, send)
    return sent


def test_request_id_generated_kept_or_replaced_and_problem_body() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        assert context_of(scope).peer == "1.2.3.4"
        raise NotFound("nothing here")

    app = RequestIdMiddleware(ProblemMiddleware(failing))
    sent = asyncio.run(_run(app))
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 404 and headers[b"content-type"] == b"application/problem+json"
    assert len(headers[b"x-request-id"]) == 32
    assert b'"request_id":"' + headers[b"x-request-id"] + b'"' in sent[1]["body"]
    kept = asyncio.run(_run(app, [(b"x-request-id", b"abc-1")]))
    assert dict(kept[0]["headers"])[b"x-request-id"] == b"abc-1"
    replaced = asyncio.run(_run(app, [(b"x-request-id", b"bad id\x01")]))
    assert dict(replaced[0]["headers"])[b"x-request-id"] != b"bad id\x01"


def test_unexpected_errors_are_500_problems() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    sent = asyncio.run(_run(RequestIdMiddleware(ProblemMiddleware(broken))))
    assert sent[0]["status"] == 500 and b"boom" not in sent[1]["body"]


def test_settings_from_env(tmp_path: Path) -> None:
    settings = GatewaySettings.from_env(
        {
            "AGORA_GATEWAY_SNAPSHOT": str(tmp_path / "s.json"),
            "AGORA_GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
        }
    )
    assert settings.snapshot == tmp_path / "s.json" and settings.cache is None
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    database = GatewaySettings.from_env({})
    assert database.database_url.startswith("sqlite:///") and database.database_url.endswith("var/agora.db")
    assert database.cache is not None and database.poll_interval == 0.5
    with pytest.raises(ValueError):
        GatewaySettings(poll_interval=0)


def test_cli_signature_is_typer_compatible() -> None:
    parameters = inspect.signature(gateway_command).parameters
    assert list(parameters) == ["host", "port", "workers", "snapshot", "metrics_port", "metrics_host"]
    assert [p.default for p in parameters.values()] == ["127.0.0.1", 8000, 1, None, 0, "127.0.0.1"]
