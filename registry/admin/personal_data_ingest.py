"""Admin route: where gateways without a database send the accesses to personal data they logged.

`POST /admin/personal-data/ingest` takes personal-data-log's batch (`{"records": [...]}`,
registry/services/personal_data.py). The same tokens as the usage ingest may post (a platform admin, or
the usage-ingest role a gateway or Kong data plane holds): both are what a data plane reports about the
calls it served. The write runs in a worker thread and, like usage, skips the snapshot recompilation.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.admin.authz import require_usage_writer
from registry.admin.context import caller
from registry.admin.ingest import ingest_batch
from registry.services import personal_data

__all__ = ["MAX_BODY_BYTES", "routes"]

MAX_BODY_BYTES = 16 * 1024 * 1024  # 10,000 records of about 500 bytes fit well below


async def ingest_personal_data(request: Request) -> JSONResponse:
    require_usage_writer(await caller(request, usage_ingest=True))
    result = await ingest_batch(request, MAX_BODY_BYTES, "the personal data access log", personal_data.ingest)
    return JSONResponse({"received": result.received, "inserted": result.inserted})


routes = [Route("/admin/personal-data/ingest", ingest_personal_data, methods=["POST"])]
