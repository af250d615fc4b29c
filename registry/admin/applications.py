"""Admin routes: applications, for platform admins (as `agora app` is for operators). Developers
manage their own in the portal; here an operator creates one for a partner or corrects the
organisation it acts for, which no agency is asked about (the portal asks the developer to go
through the agency again: registry/services/self_service.py)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.admin.authz import require_platform_admin
from registry.admin.context import caller, context, json_body
from registry.admin.views import application_view
from registry.services import applications, plans, self_service
from registry.services.tokens import Principal
from registry.unit_of_work import change

__all__ = ["routes"]


async def create_application(request: Request) -> JSONResponse:
    who = await caller(request)
    require_platform_admin(who, "create applications")
    body = await json_body(request, "ApplicationInput")
    return await run_in_threadpool(_create, request, who, body)


def _create(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
    with change(context(request).sessions) as session:
        row = applications.create_application(
            session,
            developer=applications.get_developer(session, body["developer"]),
            name=body["name"],
            plan=plans.get_plan(session, body["plan"]),
            description=body.get("description", ""),
            organisation=body.get("organisation", ""),
            actor=who.actor,
        )
        return JSONResponse(application_view(row), status_code=201)


async def update_application(request: Request) -> JSONResponse:
    who = await caller(request)
    require_platform_admin(who, "change applications")
    body = await json_body(request, "ApplicationUpdate")
    return await run_in_threadpool(_update, request, who, body)


def _update(request: Request, who: Principal, body: dict[str, Any]) -> JSONResponse:
    with change(context(request).sessions) as session:
        row = applications.get_application(session, request.path_params["application"])
        if "name" in body:
            self_service.rename_application(session, row, body["name"], actor=who.actor)
        if "organisation" in body:
            applications.set_organisation(session, row, body["organisation"], actor=who.actor)
        return JSONResponse(application_view(row))


routes = [
    Route("/admin/applications", create_application, methods=["POST"]),
    Route("/admin/applications/{application}", update_application, methods=["PATCH"]),
]
