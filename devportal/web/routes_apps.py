"""Applications (create, rename, name the organisation they act for, delete) and their API keys
(issue, rotate with an overlap, revoke).
A new key's secret is shown once, on the answer to the POST that issued it, and never stored.

Destructive actions (rotate, revoke, delete) are asked first on a page of their own (GET), which says
what will happen and holds the form that does it (POST). Form errors come back on the same page,
every error at once, each on its field, with what was typed (devportal.web.form_errors)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import Conflict
from devportal.web.accounts import require_developer
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.first_call import first_call
from devportal.web.form_errors import FormErrors
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from registry.models import Credential, Developer, utcnow
from registry.services import applications, entitlements, self_service
from registry.unit_of_work import change, read

__all__ = ["routes"]

MAX_OVERLAP_HOURS = 24 * 30


def _actor(email: str) -> str:
    return f"portal:{email}"


MAX_NAME = 200


def list_apps(
    request: Request, *, values: dict[str, str] | None = None, errors: FormErrors | None = None
) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        apps = self_service.own_applications(session, developer)
        return render(
            request,
            "apps.html",
            status=422 if errors else 200,
            user=developer,
            apps=apps,
            now=utcnow(),
            values=values or {"name": "", "description": "", "organisation": ""},
            errors=errors or FormErrors(),
        )


def _name_errors(field: str, name: str) -> FormErrors:
    errors = FormErrors()
    if not name:
        errors.add(field, "Enter a name for the application")
    elif len(name) > MAX_NAME:
        errors.add(field, f"Enter an application name of {MAX_NAME} characters or fewer")
    return errors


def _organisation_errors(field: str, organisation: str) -> FormErrors:
    errors = FormErrors()
    if len(organisation) > applications.MAX_ORGANISATION:
        errors.add(
            field, f"Enter an organisation name of {applications.MAX_ORGANISATION} characters or fewer"
        )
    return errors


async def create_app(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "name", "description", "organisation")
    ctx = context(request)
    errors = _name_errors("app-name", values["name"])
    errors.update(_organisation_errors("app-organisation", values["organisation"]))
    if errors:
        return await run_in_threadpool(lambda: list_apps(request, values=values, errors=errors))

    def work() -> str:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = applications.create_application(
                session,
                developer=developer,
                name=values["name"],
                description=values["description"],
                organisation=values["organisation"],
                plan=self_service.default_plan(session),
                actor=_actor(developer.email),
            )
            return app.id

    app_id = await in_thread(work)
    flash(request, f"Application {values['name']} created. Issue a key to call APIs.")
    return RedirectResponse(f"/account/apps/{app_id}", status_code=303)


def show_app(
    request: Request, *, values: dict[str, str] | None = None, errors: FormErrors | None = None
) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        app = self_service.own_application(session, developer, request.path_params["app_id"])
        return render(
            request,
            "app.html",
            status=422 if errors else 200,
            user=developer,
            app=app,
            entitlements=entitlements.application_entitlements(session, app),
            now=utcnow(),
            # What was typed in the form that failed; the other form shows what is stored.
            values={"name": app.name, "organisation": app.organisation, **(values or {})},
            errors=errors or FormErrors(),
        )


async def rename_app(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "name")
    ctx = context(request)
    app_id = request.path_params["app_id"]
    errors = _name_errors("rename", values["name"])
    if errors:
        return await run_in_threadpool(lambda: show_app(request, values=values, errors=errors))

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = self_service.own_application(session, developer, app_id)
            self_service.rename_application(session, app, values["name"], actor=_actor(developer.email))

    await in_thread(work)
    flash(request, f"Application renamed to {values['name']}.")
    return RedirectResponse(f"/account/apps/{app_id}", status_code=303)


async def set_organisation(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "organisation")
    ctx = context(request)
    app_id = request.path_params["app_id"]
    errors = _organisation_errors("organisation", values["organisation"])

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = self_service.own_application(session, developer, app_id)
            self_service.set_own_organisation(
                session, app, values["organisation"], actor=_actor(developer.email)
            )

    if not errors:
        try:
            await in_thread(work)
        except Conflict as exc:  # access to personal data was asked for as another organisation
            errors.add_error("organisation", exc)
    if errors:
        return await run_in_threadpool(lambda: show_app(request, values=values, errors=errors))
    organisation = values["organisation"]
    flash(request, f"{organisation} set as the organisation." if organisation else "Organisation removed.")
    return RedirectResponse(f"/account/apps/{app_id}", status_code=303)


def confirm_delete_app(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        app = self_service.own_application(session, developer, request.path_params["app_id"])
        return render(request, "confirm.html", user=developer, action="delete", app=app, key=None, **_blank())


def _blank() -> dict[str, Any]:
    return {"values": {"overlap_hours": "24"}, "errors": FormErrors()}


def confirm_key_action(request: Request) -> Response:
    """GET /account/keys/{key_id}/rotate|revoke: what will happen, and the button that does it."""
    ctx = context(request)
    action = request.url.path.rsplit("/", 1)[1]
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        key = self_service.own_credential(session, developer, request.path_params["key_id"])
        return render(
            request, "confirm.html", user=developer, action=action, app=key.application, key=key, **_blank()
        )


async def delete_app(request: Request) -> Response:
    await check_csrf(request)
    ctx = context(request)

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = self_service.own_application(session, developer, request.path_params["app_id"])
            self_service.delete_application(session, app, actor=_actor(developer.email))

    await in_thread(work)
    flash(request, "Application deleted; its keys no longer work.")
    return RedirectResponse("/account/apps", status_code=303)


def _key_page(request: Request, issued: dict[str, Any]) -> Response:
    return render(request, "key_created.html", user=issued.pop("user"), **issued)


async def issue_key(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "sandbox")
    ctx = context(request)

    def work() -> dict[str, Any]:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = self_service.own_application(session, developer, request.path_params["app_id"])
            credential, secret = applications.issue_key(
                session,
                app,
                hmac_key=ctx.settings.hmac_key,
                sandbox=values["sandbox"] == "on",
                actor=_actor(developer.email),
            )
            return _shown(session, ctx.settings.gateway_url, developer, credential, secret, None)

    return _key_page(request, await in_thread(work))


def _shown(
    session: Session,
    gateway_url: str,
    developer: Developer,
    credential: Credential,
    secret: str,
    rotated: dict[str, Any] | None,
) -> dict[str, Any]:
    """What the key page shows once: the secret and a first call that already carries it."""
    app = credential.application
    return {
        "user": developer,
        "app": app,
        "credential": credential,
        "secret": secret,
        "sample": first_call(session, app, secret, gateway_url),
        "rotated": rotated,
    }


def _overlap(text: str) -> tuple[float, str | None]:
    """(hours, error sentence or None)."""
    try:
        hours = float(text or "24")
    except ValueError:
        return 0.0, "Enter the overlap as a number of hours, like 24"
    if not 0 <= hours <= MAX_OVERLAP_HOURS:
        return hours, f"Enter an overlap between 0 and {MAX_OVERLAP_HOURS} hours"
    return hours, None


async def rotate_key(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "overlap_hours")
    ctx = context(request)
    hours, problem = _overlap(values["overlap_hours"])
    if problem is not None:
        errors = FormErrors()
        errors.add("overlap", problem)
        with read(ctx.sessions) as session:
            developer = require_developer(request, session)
            key = self_service.own_credential(session, developer, request.path_params["key_id"])
            return render(
                request,
                "confirm.html",
                status=422,
                user=developer,
                action="rotate",
                app=key.application,
                key=key,
                values=values,
                errors=errors,
            )

    def work() -> dict[str, Any]:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            old = self_service.own_credential(session, developer, request.path_params["key_id"])
            credential, secret = applications.rotate_key(
                session,
                old,
                hmac_key=ctx.settings.hmac_key,
                overlap=timedelta(hours=hours),
                actor=_actor(developer.email),
            )
            rotated = {"prefix": old.prefix, "until": old.expires_at}
            return _shown(session, ctx.settings.gateway_url, developer, credential, secret, rotated)

    return _key_page(request, await in_thread(work))


async def revoke_key(request: Request) -> Response:
    await check_csrf(request)
    ctx = context(request)

    def work() -> str:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            credential = self_service.own_credential(session, developer, request.path_params["key_id"])
            applications.revoke_key(
                session, credential, reason="revoked by its developer", actor=_actor(developer.email)
            )
            return credential.application_id

    app_id = await in_thread(work)
    flash(request, "Key revoked: the gateway refuses it from now on.")
    return RedirectResponse(f"/account/apps/{app_id}", status_code=303)


routes = [
    Route("/account/apps", list_apps, methods=["GET"]),
    Route("/account/apps", create_app, methods=["POST"]),
    Route("/account/apps/{app_id}", show_app, methods=["GET"]),
    Route("/account/apps/{app_id}/rename", rename_app, methods=["POST"]),
    Route("/account/apps/{app_id}/organisation", set_organisation, methods=["POST"]),
    Route("/account/apps/{app_id}/delete", confirm_delete_app, methods=["GET"]),
    Route("/account/apps/{app_id}/delete", delete_app, methods=["POST"]),
    Route("/account/apps/{app_id}/keys", issue_key, methods=["POST"]),
    Route("/account/keys/{key_id}/rotate", confirm_key_action, methods=["GET"]),
    Route("/account/keys/{key_id}/rotate", rotate_key, methods=["POST"]),
    Route("/account/keys/{key_id}/revoke", confirm_key_action, methods=["GET"]),
    Route("/account/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
]
