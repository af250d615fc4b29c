"""The `http` backend: POSTs Agora's batch format (`{"records": [...]}`) to the admin API's
`/admin/usage/ingest` with a platform-admin token. For gateways without a database access."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

__all__ = ["HttpStore", "IngestRefused"]

log = logging.getLogger("agora.plugins.usage_metering")
# Retrying cannot change these answers: the batch itself is wrong. Anything else (401/403 while a
# token is being fixed, 429, 5xx, no connection) is retried at the next interval.
_FINAL = frozenset({400, 404, 405, 413, 415, 422})


class IngestRefused(Exception):
    """The ingest endpoint answered with an error worth retrying."""


class HttpStore:
    def __init__(self, endpoint: str, token: str, *, timeout: float = 10.0, kind: str = "usage") -> None:
        self.endpoint, self.kind = endpoint, kind  # kind: what the records are, for the log line
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        response = self._client.post(self.endpoint, json={"records": list(rows)})
        if response.status_code < 300:
            return
        if response.status_code in _FINAL:
            log.error(
                "%s ingest refused a batch of %d records for good (%d): %s",
                self.kind, len(rows), response.status_code, response.text[:500],
            )  # fmt: skip
            return
        raise IngestRefused(f"{self.endpoint} answered {response.status_code}: {response.text[:200]}")

    def close(self) -> None:
        self._client.close()
