"""Admin routes: plans. Agency admins manage their agencies' plans; platform-wide plans are the platform's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.admin.authz import require_read, require_write, require_writer, scope
from registry.admin.context import caller, context, json_body, principal
from registry.admin.views import plan_view
from registry.models import Agency
from registry.services import agencies, plans
from registry.services.tokens import Principal
from registry.unit_of_work import change, read

__all__ = ["routes"]


def _slugs(session: Session) -> dict[int, str]:
    return {row.id: row.slug for row in session.execute(select(Agency.id, Agency.slug))}


def list_plans(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        slugs = _slugs(session)
        return JSONResponse([plan_view(p, slugs) for p in plans.list_plans(session, agency_ids=scope(who))])


async def create_plan(request: Request) -> JSONResponse:
    who = await caller(request)
    require_writer(who)  # which agency is in the body: the rest of the check follows it
    body = await json_body(request, "PlanInput")
    return await run_in_threadpool(_create_plan, request, who, body)


def _create_plan(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
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


def get_plan(request: Request) -> JSONResponse:
    who = principal(request)
    with read(context(request).sessions) as session:
        plan = plans.get_plan(session, request.path_params["plan"])
        if plan.agency_id is not None:
            require_read(who, plan.agency_id, f"plan {plan.slug}")
        return JSONResponse(plan_view(plan, _slugs(session)))


def _may_update(request: Request, who: Principal) -> None:
    with read(context(request).sessions) as session:
        plan = plans.get_plan(session, request.path_params["plan"])
        require_write(who, plan.agency_id, f"plan {plan.slug}")


async def update_plan(request: Request) -> JSONResponse:
    who = await caller(request)
    await run_in_threadpool(_may_update, request, who)
    body = await json_body(request, "PlanUpdate")
    return await run_in_threadpool(_update_plan, request, who, body)


def _update_plan(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
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
