"""Where usage records are written: one two-function interface, `write(rows)` and `close()`; a store
may also offer `encode(row)` and `write_encoded(encoded)` (`Encoding`): rows made ready to write on the
event loop, one per request, so that the flusher's work is the database's alone (recorder.py).

    database    the registry's `usage_records` table (SQLAlchemy; SQLite or PostgreSQL)
    http        POST to the admin API's `/admin/usage/ingest` (gateways without a database)

`write` runs in the recorder's flusher thread, never on the event loop; it raises to have the batch
retried at the next interval, and returns normally once the batch is stored or deliberately dropped.
Both stores are idempotent on `request_id`, so a batch retried after an ambiguous failure is stored once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from agora.errors import InvalidInput

__all__ = ["INGEST_TOKEN_ENV", "INGEST_URL_ENV", "Encoding", "UsageStore", "make_store", "store_target"]

INGEST_URL_ENV = "AGORA_USAGE_INGEST_URL"
INGEST_TOKEN_ENV = "AGORA_USAGE_INGEST_TOKEN"


class UsageStore(Protocol):
    def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Encoding(Protocol):
    """A store whose rows can be made ready to write ahead, cheaply and without I/O, in any thread."""

    def prepare(self) -> None: ...  # what `encode` needs (no I/O); raises if the store cannot be used

    def encode(self, row: dict[str, Any]) -> tuple[Any, ...]: ...

    def write_encoded(self, encoded: Sequence[tuple[Any, ...]]) -> None: ...


def store_target(backend: str | None, http_endpoint: str | None) -> tuple[str, str]:
    """(backend, where): the config's choice, else the deployment's environment."""
    endpoint = http_endpoint or os.environ.get(INGEST_URL_ENV) or ""
    backend = backend or ("http" if endpoint else "database")
    if backend == "http":
        if not endpoint:
            raise InvalidInput(f"usage-metering: the http backend needs http_endpoint or {INGEST_URL_ENV}")
        return backend, endpoint
    from agora.settings import load_settings

    return backend, load_settings().database_url


def make_store(backend: str, where: str) -> UsageStore:
    if backend == "http":
        from plugins.usage_metering.backends.http import HttpStore

        return HttpStore(where, os.environ.get(INGEST_TOKEN_ENV, ""))
    from plugins.usage_metering.backends.database import DatabaseStore

    return DatabaseStore(where)
