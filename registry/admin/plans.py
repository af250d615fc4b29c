"""Admin routes: plans. Agency admins manage their agencies' plans; platform-wide plans are the platform's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.admin.authz import require_read, require_write, scope
from registry.admin.context import context, json_body, principal
from registry.admin.views import plan_view
from registry.models import Agency
from registry.services import agencies, plans
from registry.unit_of_work import change, read

__all__ = ["routes"]


def _slugs(session: Session) -> dict[int, str]:
    return {row.id: row.slug for row in session.execute(select(Agency.id, Agency.slug))}


async def list_plans(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        slugs = _slugs(session)
        return JSONResponse([plan_view(p, slugs) for p in plans.list_plans(session, agency_ids=scope(who))])


async def create_plan(request: Request) -> JSONResponse:
    who = principal(request)
    body = await json_body(request, "PlanInput")
    with change(context(request).sessions) as session:
        agency = agencies.get_agency(session, body["agency"]) if body.get("agency") else None
        require_write(
            who, agency.id if agency else None, "platform-wide plans" if agency is None else "plans"
        )
        plan = plans.create_plan(
            session,
            slug=body["slug"],
            name=body["name"],
            description=body.get("description", ""),
            limits=body["limits"],
            approval_required=body.get("approval_required", False),
            agency=agency,
            actor=who.actor,
        )
        return JSONResponse(plan_view(plan, _slugs(session)), status_code=201)


async def get_plan(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        plan = plans.get_plan(session, request.path_params["plan"])
        if plan.agency_id is not None:
            require_read(who, plan.agency_id, f"plan {plan.slug}")
        return JSONResponse(plan_view(plan, _slugs(session)))


async def update_plan(request: Request) -> JSONResponse:
    who = principal(request)
    body = await json_body(request, "PlanUpdate")
    with change(context(request).sessions) as session:
        plan = plans.get_plan(session, request.path_params["plan"])
        require_write(who, plan.agency_id, f"plan {plan.slug}")
        plans.update_plan(
            session,
            plan,
            name=body.get("name"),
            description=body.get("description"),
            limits=body.get("limits"),
            approval_required=body.get("approval_required"),
            actor=who.actor,
        )
        return JSONResponse(plan_view(plan, _slugs(session)))


routes = [
    Route("/admin/plans", list_plans, methods=["GET"]),
    Route("/admin/plans", create_plan, methods=["POST"]),
    Route("/admin/plans/{plan}", get_plan, methods=["GET"]),
    Route("/admin/plans/{plan}", update_plan, methods=["PATCH"]),
]
