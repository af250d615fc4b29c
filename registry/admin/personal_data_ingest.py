"""Admin route: where gateways without a database send the accesses to personal data they logged.

`POST /admin/personal-data/ingest` takes personal-data-log's batch (`{"records": [...]}`,
registry/services/personal_data.py). The same tokens as the usage ingest may post (a platform admin, or
the usage-ingest role a gateway or Kong data plane holds): both are what a data plane reports about the
calls it served. The write runs in a worker thread and, like usage, skips the snapshot recompilation.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora.errors import InvalidInput, Unavailable
from registry.admin.authz import require_usage_writer
from registry.admin.context import caller, context, read_body
from registry.services import personal_data

__all__ = ["MAX_BODY_BYTES", "routes"]

MAX_BODY_BYTES = 16 * 1024 * 1024  # 10,000 records of about 500 bytes fit well below


async def _json(request: Request) -> Any:
    raw = await read_body(request, MAX_BODY_BYTES)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not JSON: {exc}") from exc


def _write(sessions: sessionmaker[Session], body: Any) -> personal_data.IngestResult:
    try:
        with sessions.begin() as session:
            return personal_data.ingest(session, body)
    except OperationalError as exc:
        raise Unavailable(f"the personal data access log is unavailable: {exc.orig or exc}") from exc
    except DataError as exc:  # e.g. a NUL byte in a string: PostgreSQL text cannot hold it
        raise InvalidInput(f"a record cannot be stored: {exc.orig or exc}") from exc


async def ingest_personal_data(request: Request) -> JSONResponse:
    require_usage_writer(await caller(request, usage_ingest=True))
    body = await _json(request)
    result = await run_in_threadpool(_write, context(request).sessions, body)
    return JSONResponse({"received": result.received, "inserted": result.inserted})


routes = [Route("/admin/personal-data/ingest", ingest_personal_data, methods=["POST"])]
