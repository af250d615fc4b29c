"""Admin routes: publishing specs, reading APIs and versions, moving versions through their lifecycle."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agora.errors import InvalidInput
from registry.admin.authz import require_read, require_write, scope
from registry.admin.context import caller, context, json_body, principal
from registry.admin.views import api_view, version_detail_view, version_view
from registry.models import AccessLevel, ApiVersion
from registry.services import agencies, apis
from registry.services.tokens import Principal
from registry.unit_of_work import change, read
from registry.versions import coerce_semver

__all__ = ["routes"]


def list_apis(request: Request) -> JSONResponse:
    who = principal(request)
    agency_slug = request.query_params.get("agency")
    with read(context(request).sessions) as session:
        if agency_slug is not None:
            agency = agencies.get_agency(session, agency_slug)
            require_read(who, agency.id, f"agency {agency_slug}'s APIs")
        rows = apis.list_apis(session, agency_slug=agency_slug, agency_ids=scope(who))
        return JSONResponse([api_view(a) for a in rows])


def _may_publish(request: Request, who: Principal) -> None:
    with read(context(request).sessions) as session:
        agency = agencies.get_agency(session, request.path_params["agency"])
        require_write(who, agency.id, f"agency {agency.slug}'s APIs")


async def publish(request: Request) -> JSONResponse:
    who = await caller(request)
    await run_in_threadpool(_may_publish, request, who)  # before a byte of the spec is read
    body = await json_body(request, "PublishInput")
    if body.get("version") is not None:
        coerce_semver(str(body["version"]), what="request body at /version:")
    # Validating a large spec takes seconds: keep it off the event loop.
    return await run_in_threadpool(_publish, request, who, body)


def _publish(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
    ctx = context(request)
    with change(ctx.sessions) as session:
        agency = agencies.get_agency(session, request.path_params["agency"])
        require_write(who, agency.id, f"agency {agency.slug}'s APIs")
        level = body.get("access_level")
        result = apis.publish(
            session,
            agency_slug=agency.slug,
            spec=body["spec"],
            filename=body.get("filename"),
            upstream=body.get("upstream"),
            api_slug=body.get("api"),
            access_level=AccessLevel(level) if level else None,
            version=body.get("version"),
            tags=body.get("tags"),
            accept_findings=bool(body.get("accept_findings", False)),
            allow_breaking=bool(body.get("allow_breaking", False)),
            draft=bool(body.get("draft", False)),
            allowed_upstream_hosts=ctx.settings.allowed_upstream_hosts,
            limits=ctx.settings.spec_limits,
            actor=who.actor,
        )
        session.refresh(result.version.api)
        return JSONResponse(
            {
                "api": api_view(result.version.api),
                "version": version_view(result.version),
                "created_api": result.created_api,
                "findings": [f.as_dict() for f in result.findings],
                "changes": result.changes,
            },
            status_code=201,
        )


def get_api(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        api = apis.get_api(session, request.path_params["agency"], request.path_params["api"])
        require_read(who, api.agency_id, f"API {api.agency.slug}/{api.slug}")
        return JSONResponse(api_view(api))


def _version(session: Session, request: Request, who: Principal, *, write: bool) -> ApiVersion:
    p = request.path_params
    row = apis.get_version(session, p["agency"], p["api"], p["version"])
    check = require_write if write else require_read
    check(who, row.api.agency_id, f"API {p['agency']}/{p['api']}")
    return row


def get_version(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        return JSONResponse(version_detail_view(_version(session, request, who, write=False)))


def get_spec(request: Request) -> Response:
    who = principal(request)
    with read(context(request).sessions) as session:
        row = _version(session, request, who, write=False)
        media = "application/json" if row.spec_format == "json" else "application/yaml"
        return Response(row.spec_text, media_type=media)


def release(request: Request) -> JSONResponse:
    who = principal(request)
    with change(context(request).sessions) as session:
        row = apis.release(session, _version(session, request, who, write=True), actor=who.actor)
        return JSONResponse(version_view(row))


def _may_change_version(request: Request, who: Principal) -> None:
    with read(context(request).sessions) as session:
        _version(session, request, who, write=True)


async def deprecate(request: Request) -> JSONResponse:
    who = await caller(request)
    await run_in_threadpool(_may_change_version, request, who)
    body = await json_body(request, "DeprecateInput", optional=True)
    sunset = None
    if body.get("sunset"):
        try:
            sunset = date.fromisoformat(body["sunset"])
        except ValueError as exc:
            raise InvalidInput(f"sunset {body['sunset']!r} is not a date (YYYY-MM-DD)") from exc
    return await run_in_threadpool(_deprecate, request, who, sunset)


def _deprecate(request: Request, who: Principal, sunset: date | None) -> JSONResponse:
    with change(context(request).sessions) as session:
        row = apis.deprecate(
            session, _version(session, request, who, write=True), sunset=sunset, actor=who.actor
        )
        return JSONResponse(version_view(row))


def retire(request: Request) -> JSONResponse:
    who = principal(request)
    with change(context(request).sessions) as session:
        row = apis.retire(session, _version(session, request, who, write=True), actor=who.actor)
        return JSONResponse(version_view(row))


_V = "/admin/agencies/{agency}/apis/{api}/versions/{version}"
routes = [
    Route("/admin/apis", list_apis, methods=["GET"]),
    Route("/admin/agencies/{agency}/apis", publish, methods=["POST"]),
    Route("/admin/agencies/{agency}/apis/{api}", get_api, methods=["GET"]),
    Route(_V, get_version, methods=["GET"]),
    Route(_V + "/spec", get_spec, methods=["GET"]),
    Route(_V + "/release", release, methods=["POST"]),
    Route(_V + "/deprecate", deprecate, methods=["POST"]),
    Route(_V + "/retire", retire, methods=["POST"]),
]
