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
from starlette.requests import Request

from agora.errors import InvalidInput, Unauthorized
from agora.settings import Settings
from registry.services.tokens import Principal, authenticate
from registry.unit_of_work import read

__all__ = ["AdminContext", "context", "json_body", "openapi_document", "principal"]

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


async def json_body(request: Request, schema_name: str, *, optional: bool = False) -> dict[str, Any]:
    """The body checked against the admin document's schema. Properties the schema does not declare are
    dropped, so a caller can never set fields it is not allowed to (mass assignment)."""
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise InvalidInput("a JSON request body is required")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"request body is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/" + "/".join(str(p) for p in errors[0].absolute_path)
        raise InvalidInput(f"request body at {where}: {errors[0].message}")
    declared = openapi_document()["components"]["schemas"][schema_name].get("properties", {})
    assert isinstance(body, dict)
    return {key: value for key, value in body.items() if key in declared}


def principal(request: Request, *, usage_ingest: bool = False) -> Principal:
    """The caller's admin token; a usage-ingest token only where `usage_ingest` (the ingest route)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an admin token is required: Authorization: Bearer <token>")
    ctx = context(request)
    with read(ctx.sessions) as session:
        return authenticate(session, token.strip(), hmac_key=ctx.settings.hmac_key, usage_ingest=usage_ingest)
