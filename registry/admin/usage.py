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

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.admin.authz import require_usage_writer
from registry.admin.context import caller
from registry.admin.ingest import ingest_batch
from registry.services import usage

__all__ = ["MAX_BODY_BYTES", "routes"]

MAX_BODY_BYTES = 32 * 1024 * 1024  # 10,000 Kong entries with their headers fit well below


async def ingest_usage(request: Request) -> JSONResponse:
    require_usage_writer(await caller(request, usage_ingest=True))
    result = await ingest_batch(request, MAX_BODY_BYTES, "the usage store", usage.ingest)
    return JSONResponse({"received": result.received, "inserted": result.inserted, "skipped": result.skipped})


routes = [Route("/admin/usage/ingest", ingest_usage, methods=["POST"])]
