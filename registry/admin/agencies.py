"""Admin routes: agencies."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.admin.authz import require_platform_admin, require_read, scope
from registry.admin.context import caller, context, json_body, principal
from registry.admin.views import agency_view
from registry.services import agencies
from registry.services.tokens import Principal
from registry.unit_of_work import change, read

__all__ = ["routes"]


def list_agencies(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        rows = agencies.list_agencies(session, agency_ids=scope(who))
        return JSONResponse([agency_view(a) for a in rows])


async def create_agency(request: Request) -> JSONResponse:
    who = await caller(request)
    require_platform_admin(who, "create agencies")
    body = await json_body(request, "AgencyInput")
    return await run_in_threadpool(_create_agency, request, who, body)


def _create_agency(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
    with change(context(request).sessions) as session:
        agency = agencies.create_agency(
            session,
            slug=body["slug"],
            name=body["name"],
            contact_email=body.get("contact_email"),
            website=body.get("website"),
            actor=who.actor,
        )
        return JSONResponse(agency_view(agency), status_code=201)


def get_agency(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        agency = agencies.get_agency(session, request.path_params["agency"])
        require_read(who, agency.id, f"agency {agency.slug}")
        return JSONResponse(agency_view(agency))


routes = [
    Route("/admin/agencies", list_agencies, methods=["GET"]),
    Route("/admin/agencies", create_agency, methods=["POST"]),
    Route("/admin/agencies/{agency}", get_agency, methods=["GET"]),
]
