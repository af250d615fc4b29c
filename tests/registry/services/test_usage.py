"""Usage ingest: Agora batches and Kong http-log entries into `usage_records`, idempotent, addresses
truncated, every defect named by its JSON Pointer. On SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput
from registry.models import AccessLevel, UsageRecord
from registry.services import usage
from registry.unit_of_work import change
from tests.registry import factories


def record(request_id: str = "r-1", **overrides: Any) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "at": 1_700_000_000.25,
        "agency": "cadastre",
        "api": "addresses",
        "version": "1.2.0",
        "operation_id": "getAddress",
        "application_id": "8c0f4a7e-0000-4000-8000-000000000001",
        "credential_id": "8c0f4a7e-0000-4000-8000-000000000002",
        "status": 200,
        "latency_ms": 12.5,
        "upstream_latency_ms": 10.0,
        "bytes_in": 0,
        "bytes_out": 321,
        "client_ip": "203.0.113.77",
        **overrides,
    }


def kong_entry(request_id: str | None = "k-1", **overrides: Any) -> dict[str, Any]:
    """Shaped like Kong 3's log serializer for a route of Agora's Kong export."""
    entry: dict[str, Any] = {
        "request": {
            "id": request_id,
            "method": "GET",
            "uri": "/cadastre/addresses/v1/addresses/1",
            "size": 120,
        },
        "response": {"status": 200, "size": 450, "headers": {"x-kong-request-id": "other"}},
        "latencies": {"request": 15, "proxy": 9, "kong": 6},
        "service": {"name": "cadastre.addresses.v1", "tags": ["agora", "agency:cadastre", "api:addresses"]},
        "route": {"name": "cadastre.addresses.v1.getAddress"},
        "consumer": {"id": "c0ffee00-0000-4000-8000-000000000001", "custom_id": "app-uuid", "username": "a"},
        "authenticated_entity": {"id": "cred-uuid"},
        "client_ip": "2001:db8:abcd:1234::5",
        "started_at": 1_700_000_000_250,
    }
    entry.update(overrides)
    return entry


def stored(sessions: sessionmaker[Session]) -> list[UsageRecord]:
    with sessions() as session:
        return list(session.scalars(select(UsageRecord).order_by(UsageRecord.request_id)))


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("2001:db8:abcd:1234::5", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", None),
        ("", None),
    ],
)
def test_truncate_ip(given: str, kept: str | None) -> None:
    assert usage.truncate_ip(given) == kept


def test_agora_batch_is_stored_once(sessions: sessionmaker[Session]) -> None:
    body = {"records": [record("r-1"), record("r-2", at="2024-05-01T10:00:00Z", client_ip=None)]}
    with sessions.begin() as session:
        assert usage.ingest(session, body) == usage.IngestResult(received=2, inserted=2, skipped=0)
    with sessions.begin() as session:  # the same batch again, as after a lost answer: nothing new
        assert usage.ingest(session, body).inserted == 0
    first, second = stored(sessions)
    assert first.at == datetime.fromtimestamp(1_700_000_000.25, UTC)
    assert first.client_ip == "203.0.113.0/24" and first.status == 200 and first.bytes_out == 321
    assert second.at == datetime(2024, 5, 1, 10, tzinfo=UTC) and second.client_ip is None


@pytest.mark.parametrize(
    ("bad", "pointer"),
    [
        ({"status": 99}, "/records/1/status"),
        ({"status": "200"}, "/records/1/status"),
        ({"latency_ms": -1}, "/records/1/latency_ms"),
        ({"bytes_in": True}, "/records/1/bytes_in"),
        ({"agency": ""}, "/records/1/agency"),
        ({"request_id": "x" * 65}, "/records/1/request_id"),
        ({"at": "yesterday"}, "/records/1/at"),
    ],
)
def test_one_bad_record_refuses_the_batch(
    sessions: sessionmaker[Session], bad: dict[str, Any], pointer: str
) -> None:
    with sessions.begin() as session, pytest.raises(InvalidInput, match=pointer):
        usage.ingest(session, {"records": [record("ok"), {**record("bad"), **bad}]})
    assert stored(sessions) == []


def test_other_shapes_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for body in ({"rows": []}, "records", 42, {"records": {}}):
            with pytest.raises(InvalidInput, match="expected"):
                usage.ingest(session, body)
        with pytest.raises(InvalidInput, match="at most"):
            usage.ingest(session, {"records": [record(f"r-{i}") for i in range(usage.MAX_BATCH + 1)]})


def test_kong_http_log_entries(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "cadastre")
        factories.example_api(session, "addresses", "cadastre", AccessLevel.OPEN)
    no_route = kong_entry("k-404", service=None, route=None)
    old_kong = kong_entry(None, latencies={"request": 3, "proxy": -1})
    old_kong["response"]["headers"] = {}
    body = [kong_entry("k-1"), no_route, old_kong]
    with sessions.begin() as session:
        assert usage.ingest(session, body) == usage.IngestResult(received=3, inserted=2, skipped=1)
    with sessions.begin() as session:  # Kong's queue retries: the digest id keeps old Kong idempotent too
        assert usage.ingest(session, body).inserted == 0
    by_id = {r.request_id: r for r in stored(sessions)}
    first = by_id["k-1"]
    assert (first.agency, first.api, first.version, first.operation_id) == (
        "cadastre", "addresses", "1.0.0", "getAddress",
    )  # fmt: skip
    assert first.application_id == "app-uuid" and first.credential_id == "cred-uuid"
    assert (first.status, first.latency_ms, first.upstream_latency_ms) == (200, 15.0, 9.0)
    assert (first.bytes_in, first.bytes_out) == (120, 450)
    assert first.client_ip == "2001:db8:abcd::/48"
    assert first.at == datetime.fromtimestamp(1_700_000_000.25, UTC)
    digested = next(r for r in by_id.values() if r.request_id.startswith("kong-"))
    assert digested.upstream_latency_ms is None and digested.latency_ms == 3.0


def test_kong_entry_of_an_unknown_version_keeps_its_major(sessions: sessionmaker[Session]) -> None:
    entry = kong_entry("k-9", service={"name": "gone.api.v3", "tags": []}, route={"name": "gone.api.v3.op"})
    with sessions.begin() as session:
        usage.ingest(session, [entry])
    [row] = stored(sessions)
    assert (row.agency, row.api, row.version, row.operation_id) == ("gone", "api", "3.x", "op")


def test_duplicates_inside_one_batch_are_stored_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert usage.record_usage(session, [usage.validate(record("same"), "/0")] * 3) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == 1
