"""Access: subscribe an application to an open or key API at once, ask for a restricted one with a
justification, and follow each request's state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import AgoraError, InvalidInput
from devportal.web.accounts import require_developer
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from registry.models import AccessLevel, GrantState
from registry.services import apis, plans, self_service
from registry.unit_of_work import change, read

__all__ = ["routes"]


def _split(ref: str) -> tuple[str, str]:
    agency, _, api = ref.partition("/")
    if not agency or not api:
        raise InvalidInput("choose an API")
    return agency, api


def access_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        apps = self_service.own_applications(session, developer)
        all_apis = apis.list_apis(session)
        ref = request.query_params.get("api", "")
        chosen = next((a for a in all_apis if f"{a.agency.slug}/{a.slug}" == ref), None)
        offered = self_service.offered_plans(session, chosen) if chosen is not None else []
        return render(
            request,
            "access.html",
            status=status,
            user=developer,
            apps=apps,
            apis=all_apis,
            chosen=chosen,
            plans=offered,
            grants=self_service.developer_grants(session, developer),
            restricted=AccessLevel.RESTRICTED,
            error=error,
        )


def show(request: Request) -> Response:
    return access_page(request)


async def subscribe(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "application", "api", "plan", "justification")
    ctx = context(request)

    def work() -> GrantState:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = self_service.own_application(session, developer, values["application"])
            agency, slug = _split(values["api"])
            api = apis.get_api(session, agency, slug)
            plan = (
                plans.get_plan(session, values["plan"])
                if values["plan"]
                else self_service.default_plan(session)
            )
            grant = self_service.subscribe(
                session,
                app,
                api,
                plan,
                justification=values["justification"],
                actor=f"portal:{developer.email}",
            )
            return grant.state

    try:
        state = await in_thread(work)
    except (InvalidInput, AgoraError) as exc:
        if exc.status >= 500:
            raise
        return await in_thread(access_page, request, error=exc.detail, status=exc.status)
    if state is GrantState.APPROVED:
        flash(request, f"Access to {values['api']} granted: call it with this application's key.")
    else:
        flash(request, f"Access to {values['api']} requested: the agency decides, and you will be emailed.")
    return RedirectResponse("/account/access", status_code=303)


routes = [
    Route("/account/access", show, methods=["GET"]),
    Route("/account/access", subscribe, methods=["POST"]),
]
