"""Admin routes: access grants, asked for by platform admins on an application's behalf (as `agora
grant request`), and the agency's decisions on them."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora.errors import InvalidInput
from registry.admin.authz import require_platform_admin, require_write, scope
from registry.admin.context import caller, context, json_body, principal
from registry.admin.views import grant_view
from registry.models import GrantState
from registry.path_ids import path_id
from registry.services import apis, applications, grants, plans
from registry.services.tokens import Principal
from registry.unit_of_work import change, read

__all__ = ["routes"]


def list_grants(request: Request) -> JSONResponse:
    who = principal(request)
    raw_state = request.query_params.get("state")
    try:
        state = GrantState(raw_state) if raw_state else None
    except ValueError as exc:
        raise InvalidInput(f"state {raw_state!r} is not one of {[s.value for s in GrantState]}") from exc
    with read(context(request).sessions) as session:
        rows = grants.list_grants(session, agency_ids=scope(who), state=state)
        return JSONResponse([grant_view(g) for g in rows])


async def request_access(request: Request) -> JSONResponse:
    who = await caller(request)
    require_platform_admin(who, "ask for access on an application's behalf")
    body = await json_body(request, "GrantInput")
    return await run_in_threadpool(_request_access, request, who, body)


def _request_access(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
    agency, _, slug = body["api"].partition("/")
    with change(context(request).sessions) as session:
        grant = grants.request_access(
            session,
            application=applications.get_application(session, body["application"]),
            api=apis.get_api(session, agency, slug),
            plan=plans.get_plan(session, body["plan"]),
            justification=body.get("justification", ""),
            purpose=body.get("purpose"),
            legal_basis=body.get("legal_basis"),
            actor=who.actor,
        )
        return JSONResponse(grant_view(grant), status_code=201)


def _may_decide(request: Request, who: Principal) -> None:
    with read(context(request).sessions) as session:
        grant = grants.get_grant(session, path_id(request, "grant_id"))
        require_write(who, grant.api.agency_id, f"access grants of {grant.api.agency.slug}")


async def decide(request: Request) -> JSONResponse:
    who = await caller(request)
    await run_in_threadpool(_may_decide, request, who)
    body = await json_body(request, "DecisionInput")
    return await run_in_threadpool(_decide, request, who, body)


def _decide(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
    with change(context(request).sessions) as session:
        grant = grants.get_grant(session, path_id(request, "grant_id"))
        require_write(who, grant.api.agency_id, f"access grants of {grant.api.agency.slug}")
        grants.decide(session, grant, GrantState(body["state"]), reason=body.get("reason"), actor=who.actor)
        return JSONResponse(grant_view(grant))


routes = [
    Route("/admin/grants", list_grants, methods=["GET"]),
    Route("/admin/grants", request_access, methods=["POST"]),
    Route("/admin/grants/{grant_id:int}/decision", decide, methods=["POST"]),
]
