"""Reading the snapshot document (docs/snapshot.md) into typed objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.config.model import parse_snapshot


def doc(**service: Any) -> dict[str, Any]:
    base = {"name": "a.b.v1", "prefix": "/a/b/v1", "upstream": "http://127.0.0.1:9/base/", "routes": []}
    return {"format": 1, "id": "sha256:x", "services": [{**base, **service}]}


def test_defaults_and_upstream_split() -> None:
    service = parse_snapshot(doc(routes=[{"method": "get", "path": "/x/{id}"}])).services[0]
    assert service.upstream_origin == "http://127.0.0.1:9" and service.upstream_path == "/base"
    assert service.timeouts.connect == 5.0 and service.timeouts.read == 30.0
    assert service.max_body_bytes == 10 * 1024 * 1024
    assert service.routes[0].method == "GET" and service.routes[0].param_names == ("id",)


def test_the_write_timeout_defaults_to_the_read_timeout_as_in_the_kong_export() -> None:
    assert parse_snapshot(doc()).services[0].timeouts.write == 30.0
    timeouts = parse_snapshot(doc(timeouts={"read": 7})).services[0].timeouts
    assert (timeouts.connect, timeouts.read, timeouts.write) == (5.0, 7.0, 7.0)
    assert parse_snapshot(doc(timeouts={"read": 7, "write": 2})).services[0].timeouts.write == 2.0


def test_dates_and_sandbox_only() -> None:
    service = parse_snapshot(doc(upstream=None, sunset="2030-01-01", deprecated_at=1735689600)).services[0]
    assert service.upstream_origin is None
    assert service.sunset == datetime(2030, 1, 1, tzinfo=UTC)
    assert service.deprecated_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_credentials_are_indexed_by_prefix() -> None:
    document = doc()
    document["consumers"] = [{"id": "c1", "credentials": [{"id": "k1", "prefix": "agora_12345678"}]}]
    snapshot = parse_snapshot(document)
    consumer, credential = snapshot.credentials["agora_12345678"]
    assert consumer["id"] == "c1" and credential["id"] == "k1"


@pytest.mark.parametrize(
    "document",
    [
        {"format": 2},
        doc(upstream="ftp://x"),
        doc(prefix="/a/{b}/v1"),
        doc(routes=[{"method": "GET", "path": "x"}]),
        doc(routes=[{"path": "/x"}]),
        doc(sunset="tomorrow"),
        {"format": 1, "services": [doc()["services"][0], doc()["services"][0]]},
    ],
)
def test_invalid_documents_are_refused(document: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        parse_snapshot(document)
