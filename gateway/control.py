"""The gateway's own endpoints on the data-plane port: `/healthz` and `/readyz`, nothing else.

`/healthz`: the process answers. `/readyz`: 200 while a snapshot is loaded, with `"status":
"degraded"` when the source (database) cannot be read and the last snapshot is being served; 503
before any snapshot is loaded.
"""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .config import ConfigHolder

__all__ = ["CONTROL_PATHS", "control_app"]

CONTROL_PATHS = frozenset({"/healthz", "/readyz"})


def control_app(holder: ConfigHolder, source: str) -> Starlette:
    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        config = holder.current
        source_state = {
            "description": source,
            "ok": holder.source_error is None,
            "error": holder.source_error,
            "error_since": holder.source_error_since,
            "last_checked": holder.last_checked,
        }
        if config is None:
            return JSONResponse({"status": "unavailable", "snapshot": None, "source": source_state}, 503)
        snapshot = {
            "id": config.snapshot.id,
            "revision": config.snapshot.revision,
            "services": len(config.snapshot.services),
            "routes": config.table.size,
            "age_seconds": round(time.time() - config.loaded_at, 3),
        }
        status = "ready" if holder.source_error is None else "degraded"
        return JSONResponse({"status": status, "snapshot": snapshot, "source": source_state})

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz)])
