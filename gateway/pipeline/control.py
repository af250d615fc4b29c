"""The gateway's own endpoints on the data-plane port: `/healthz` and `/readyz`, nothing else.

`/healthz`: the process answers. `/readyz`: 200 while a snapshot is loaded, with `"status":
"degraded"` when the source (database) cannot be read and the last snapshot is being served; 503
before any snapshot is loaded.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gateway.config.compiled import ConfigHolder
from gateway.engine.http import Headers

__all__ = ["CONTROL_PATHS", "control_answer"]

CONTROL_PATHS = frozenset({"/healthz", "/readyz"})
_JSON = [(b"content-type", b"application/json")]


def _readiness(holder: ConfigHolder, source: str) -> tuple[int, dict[str, Any]]:
    config = holder.current
    source_state = {
        "description": source,
        "ok": holder.source_error is None,
        "error": holder.source_error,
        "error_since": holder.source_error_since,
        "last_checked": holder.last_checked,
    }
    if config is None:
        return 503, {"status": "unavailable", "snapshot": None, "source": source_state}
    snapshot = {
        "id": config.snapshot.id,
        "revision": config.snapshot.revision,
        "services": len(config.snapshot.services),
        "routes": config.table.size,
        "age_seconds": round(time.time() - config.loaded_at, 3),
    }
    status = "ready" if holder.source_error is None else "degraded"
    return 200, {"status": status, "snapshot": snapshot, "source": source_state}


def control_answer(path: str, holder: ConfigHolder, source: str) -> tuple[int, Headers, bytes]:
    status, document = (200, {"status": "ok"}) if path == "/healthz" else _readiness(holder, source)
    return status, list(_JSON), json.dumps(document, separators=(",", ":")).encode()
