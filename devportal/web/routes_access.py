"""Access: subscribe an application to an API under a plan (self-service plans at once on open and
key APIs), ask the agency for a restricted API or a plan that needs approval, and follow each request.
For an API with personal data the form also asks for the purpose and the legal basis, chosen among
those the API declares (registry/services/purposes.py).

Errors come back on the same page in the GOV.UK pattern: every error at once, each tied to its field,
with the API, application, plan, justification, purpose and legal basis kept as typed.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import AgoraError, Conflict, NotFound
from devportal.web.accounts import require_developer
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.form_errors import GENERAL, FormErrors
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from registry.models import AccessLevel, Api, Developer, GrantState, Plan
from registry.services import apis, purposes, self_service
from registry.unit_of_work import change, read

__all__ = ["routes"]

FIELDS = ("application", "api", "plan", "justification", purposes.PURPOSE, purposes.LEGAL_BASIS)
MIN_JUSTIFICATION = 10


def _chosen(all_apis: list[Api], ref: str) -> Api | None:
    return next((a for a in all_apis if f"{a.agency.slug}/{a.slug}" == ref), None)


def access_page(
    request: Request, *, values: dict[str, str] | None = None, errors: FormErrors | None = None
) -> Response:
    ctx = context(request)
    values = values or {name: "" for name in FIELDS}
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        all_apis = apis.list_apis(session)
        chosen = _chosen(all_apis, values["api"] or request.query_params.get("api", ""))
        offered = self_service.offered_plans(session, chosen) if chosen is not None else []
        # None: the chosen API returns no personal data, so the form asks no purpose.
        bases = purposes.declared_legal_bases(chosen) if chosen is not None else None
        return render(
            request,
            "access.html",
            status=422 if errors else 200,
            user=developer,
            apps=self_service.own_applications(session, developer),
            apis=all_apis,
            chosen=chosen,
            plans=offered,
            legal_bases=bases,
            max_purpose=purposes.MAX_PURPOSE,
            grants=self_service.developer_grants(session, developer),
            restricted=AccessLevel.RESTRICTED,
            values=values,
            errors=errors or FormErrors(),
        )


def show(request: Request) -> Response:
    return access_page(request)


def _check(session: Any, developer: Developer, values: dict[str, str]) -> tuple[FormErrors, dict[str, Any]]:
    """Every error of the form at once; the objects it names when they exist."""
    errors = FormErrors()
    found: dict[str, Any] = {}
    agency, _, slug = values["api"].partition("/")
    try:
        found["api"] = apis.get_api(session, agency, slug)
    except NotFound:
        errors.add("api", "Choose the API to use")
    if not values["application"]:
        errors.add("application", "Choose the application that will call the API")
    else:
        # Not a typing mistake: the form offers only the developer's own applications. Another's id
        # gets the same 404 as an absent one (tests/security, API1), never a form error naming it.
        found["application"] = self_service.own_application(session, developer, values["application"])
    api: Api | None = found.get("api")
    offered = {p.slug: p for p in self_service.offered_plans(session, api)} if api is not None else {}
    plan: Plan | None = offered.get(values["plan"]) if values["plan"] else None
    if api is not None and plan is None:
        errors.add("plan", f"Choose a plan offered for {api.title}")
    if plan is not None:
        found["plan"] = plan
    asked = api is not None and plan is not None and self_service.subscription_needs_approval(api, plan)
    if asked and api is not None and len(values["justification"]) < MIN_JUSTIFICATION:
        errors.add(
            "justification",
            f"Tell {api.agency.name} what your application does with this API, "
            f"in {MIN_JUSTIFICATION} characters or more",
        )
    if api is not None:
        # The API's versions are read once here; the checked purpose goes down to the services.
        rule = purposes.purpose_rule(api)
        purpose, basis = values[purposes.PURPOSE], values[purposes.LEGAL_BASIS]
        problems = rule.problems(purpose=purpose, legal_basis=basis)
        for field, message in problems.items():
            # Without personal data the page shows neither field: a message about one (a hand-made
            # request) is the form's, not a link to nothing.
            errors.add(field if rule.asks_purpose else GENERAL, message)
        if not problems:
            found["purpose"] = rule.checked(purpose=purpose, legal_basis=basis)
    return errors, found


async def subscribe(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, *FIELDS)
    ctx = context(request)

    def work() -> tuple[FormErrors, GrantState | None]:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            errors, found = _check(session, developer, values)
            if errors:
                return errors, None
            try:
                grant = self_service.subscribe(
                    session,
                    found["application"],
                    found["api"],
                    found["plan"],
                    justification=values["justification"],
                    checked=found["purpose"],
                    actor=f"portal:{developer.email}",
                )
            except Conflict as exc:
                errors.add_error("plan", exc)
                return errors, None
            return errors, grant.state

    try:
        errors, state = await in_thread(work)
    except AgoraError as exc:
        if exc.status >= 500 or exc.status in (401, 403, 404):
            raise
        errors, state = FormErrors(), None
        errors.add_error(GENERAL, exc)
    if errors or state is None:
        return await run_in_threadpool(lambda: access_page(request, values=values, errors=errors))
    if state is GrantState.APPROVED:
        flash(
            request,
            f"Access to {values['api']} granted under this plan: call it with this application's key.",
        )
    else:
        flash(request, f"Access to {values['api']} requested: the agency decides, and you will be emailed.")
    return RedirectResponse("/account/access", status_code=303)


routes = [
    Route("/account/access", show, methods=["GET"]),
    Route("/account/access", subscribe, methods=["POST"]),
]
