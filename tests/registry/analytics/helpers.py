"""Raw usage records for the analytics tests, written through the registry's own ingest function."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from registry.services.usage import record_usage

_ids = itertools.count()


def raw(at: datetime, *, latency: float = 10.0, status: int = 200, **overrides: Any) -> dict[str, Any]:
    return {
        "request_id": f"req-{next(_ids)}",
        "at": at,
        "agency": "cadastre",
        "api": "addresses",
        "version": "1.0.0",
        "operation_id": "getAddress",
        "application_id": "app-1",
        "credential_id": None,
        "status": status,
        "latency_ms": latency,
        "upstream_latency_ms": latency * 0.8 if status != 429 else None,
        "bytes_in": 0,
        "bytes_out": 100,
        "client_ip": "203.0.113.0/24",
        **overrides,
    }


def insert(session: Session, rows: list[dict[str, Any]]) -> None:
    assert record_usage(session, rows) == len(rows)
