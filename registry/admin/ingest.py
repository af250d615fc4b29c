"""What the ingest routes share (usage, accesses to personal data): a data plane's batch read as JSON
under a size limit, and written in a worker thread with the database's failures mapped to the error
tree (a store that is down is 503, a value the database cannot hold is 422)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from agora.errors import InvalidInput, Unavailable
from registry.admin.context import context, read_body

__all__ = ["ingest_batch"]

Result = TypeVar("Result")


async def ingest_batch(
    request: Request, max_bytes: int, store: str, ingest: Callable[[Session, Any], Result]
) -> Result:
    """The request's JSON body handed to `ingest` in one transaction, off the event loop (a batch every
    second per gateway worker must not stall the admin API). `store` names what is written, for errors."""
    raw = await read_body(request, max_bytes)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not JSON: {exc}") from exc
    return await run_in_threadpool(_write, context(request).sessions, body, store, ingest)


def _write(
    sessions: sessionmaker[Session], body: Any, store: str, ingest: Callable[[Session, Any], Result]
) -> Result:
    try:
        with sessions.begin() as session:
            return ingest(session, body)
    except OperationalError as exc:
        raise Unavailable(f"{store} is unavailable: {exc.orig or exc}") from exc
    except DataError as exc:  # e.g. a NUL byte in a string: PostgreSQL text cannot hold it
        raise InvalidInput(f"a record cannot be stored: {exc.orig or exc}") from exc
