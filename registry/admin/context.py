"""What every admin handler needs: the session factory, settings, the caller, and a checked JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from agora.errors import InvalidInput, PayloadTooLarge, Unauthorized
from agora.settings import Settings
from registry.services.tokens import Principal, authenticate
from registry.unit_of_work import read

__all__ = [
    "AdminContext",
    "caller",
    "context",
    "json_body",
    "openapi_document",
    "principal",
    "read_body",
]

_DOC_URI = "urn:agora:admin-openapi"


@dataclass(frozen=True, slots=True)
class AdminContext:
    settings: Settings
    sessions: sessionmaker[Session]


def context(request: Request) -> AdminContext:
    ctx: AdminContext = request.app.state.agora
    return ctx


@cache
def openapi_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "openapi.yaml").read_text())
    return loaded


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        _DOC_URI, Resource.from_contents(openapi_document(), default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{_DOC_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(schema, registry=registry)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 before reading when its Content-Length says it is past `limit`, and
    while streaming when it turns out to be (chunked, or a Content-Length that lied)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is {int(declared):,} bytes; the limit is {limit:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body exceeds the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, schema_name: str, *, optional: bool = False) -> dict[str, Any]:
    """The body checked against the admin document's schema. Properties the schema does not declare are
    dropped, so a caller can never set fields it is not allowed to (mass assignment). Call it only after
    the caller is authorised for the route: nobody's body is read for them before that."""
    raw = await read_body(request, context(request).settings.admin_max_body_bytes)
    if not raw.strip():
        if optional:
            return {}
        raise InvalidInput("a JSON request body is required")
    # Megabytes of JSON (a large spec inside) take a while to parse: not on the event loop.
    return await run_in_threadpool(_checked, raw, schema_name)


def _checked(raw: bytes, schema_name: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not JSON: {exc}") from exc
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/" + "/".join(str(p) for p in errors[0].absolute_path)
        raise InvalidInput(f"request body at {where}: {errors[0].message}")
    declared = openapi_document()["components"]["schemas"][schema_name].get("properties", {})
    assert isinstance(body, dict)
    return {key: value for key, value in body.items() if key in declared}


async def caller(request: Request, *, usage_ingest: bool = False) -> Principal:
    """`principal`, from a worker thread: checking a token reads the database."""
    return await run_in_threadpool(lambda: principal(request, usage_ingest=usage_ingest))


def principal(request: Request, *, usage_ingest: bool = False) -> Principal:
    """The caller's admin token; a usage-ingest token only where `usage_ingest` (the ingest route)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an admin token is required: Authorization: Bearer <token>")
    ctx = context(request)
    with read(ctx.sessions) as session:
        return authenticate(session, token.strip(), hmac_key=ctx.settings.hmac_key, usage_ingest=usage_ingest)
