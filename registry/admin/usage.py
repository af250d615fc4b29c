"""Admin route: usage ingest, where gateways without a database and Kong's http-log send metering.

`POST /admin/usage/ingest` takes Agora's batch (`{"records": [...]}`) or Kong's http-log JSON array
(registry/services/usage.py has both shapes). Only a platform-admin or a usage-ingest token may post:
usage feeds billing-like quotas and every agency's dashboards, so a token scoped to one agency or
read-only must not be able to write it, and the credential a Kong data plane holds (usage-ingest) can
do nothing else. Only the fields of a usage record are stored: a Kong entry's URIs, query string and
headers are never read, so a key sent as a query argument cannot land in the usage store.

The write runs in a worker thread (a batch every second per gateway worker must not stall the admin
API's event loop) and skips the snapshot recompilation of `change()`: usage is not configuration.
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
from registry.services import usage

__all__ = ["MAX_BODY_BYTES", "routes"]

MAX_BODY_BYTES = 32 * 1024 * 1024  # 10,000 Kong entries with their headers fit well below


async def _json(request: Request) -> Any:
    raw = await read_body(request, MAX_BODY_BYTES)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not JSON: {exc}") from exc


def _write(sessions: sessionmaker[Session], body: Any) -> usage.IngestResult:
    try:
        with sessions.begin() as session:
            return usage.ingest(session, body)
    except OperationalError as exc:
        raise Unavailable(f"the usage store is unavailable: {exc.orig or exc}") from exc
    except DataError as exc:  # e.g. a NUL byte in a string: PostgreSQL text cannot hold it
        raise InvalidInput(f"a record cannot be stored: {exc.orig or exc}") from exc


async def ingest_usage(request: Request) -> JSONResponse:
    require_usage_writer(await caller(request, usage_ingest=True))
    body = await _json(request)
    result = await run_in_threadpool(_write, context(request).sessions, body)
    return JSONResponse({"received": result.received, "inserted": result.inserted, "skipped": result.skipped})


routes = [Route("/admin/usage/ingest", ingest_usage, methods=["POST"])]
