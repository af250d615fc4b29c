"""The small pieces alone: sandbox samples, lifecycle headers, request ids, problems, settings, CLI."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.cli import gateway as gateway_command
from gateway.config.compiled import compile_snapshot
from gateway.config.model import parse_snapshot
from gateway.engine.inprocess import call
from gateway.pipeline.lifecycle import deprecation_headers, successor_of
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.pipeline.sandbox import sample_from_schema
from gateway.settings import GatewaySettings


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


def _gateway(transport: Any = None) -> Any:
    doc = {"format": 1, "services": [{"name": "a.b.v1", "prefix": "/a/b/v1", "upstream": "http://127.0.0.1:9",
                                      "routes": [{"method": "GET", "path": "/p"}]}]}  # fmt: skip
    registry = PluginRegistry()
    return create_app(GatewaySettings(), registry=registry, config=compile_snapshot(doc, registry),
                      transport=transport)  # fmt: skip


def test_request_id_generated_kept_or_replaced_and_problem_body() -> None:
    gateway = _gateway()
    answer = asyncio.run(call(gateway, "GET", "/nowhere", peer="1.2.3.4"))
    assert answer.status == 404 and answer.header(b"content-type") == b"application/problem+json"
    request_id = answer.header(b"x-request-id")
    assert request_id is not None and len(request_id) == 32
    assert b'"request_id":"' + request_id + b'"' in answer.body
    kept = asyncio.run(call(gateway, "GET", "/nowhere", headers=[(b"x-request-id", b"abc-1")]))
    assert kept.header(b"x-request-id") == b"abc-1"
    replaced = asyncio.run(call(gateway, "GET", "/nowhere", headers=[(b"x-request-id", b"bad id\x01")]))
    assert replaced.header(b"x-request-id") not in (None, b"bad id\x01")


def test_unexpected_errors_are_500_problems() -> None:
    class Broken:
        async def start(self) -> None:
            pass

        async def aclose(self) -> None:
            pass

        async def send(self, request: Any) -> Any:
            raise RuntimeError("boom")

    answer = asyncio.run(call(_gateway(Broken()), "GET", "/a/b/v1/p"))
    assert answer.status == 500 and b"boom" not in answer.body
    assert answer.header(b"x-request-id") is not None


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
