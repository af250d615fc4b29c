"""Applications (create, rename, delete) and their API keys (issue, rotate with an overlap, revoke).
A new key's secret is shown once, on the answer to the POST that issued it, and never stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import InvalidInput
from devportal.web.accounts import require_developer
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.first_call import first_call
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from registry.models import Credential, Developer, utcnow
from registry.services import applications, entitlements, self_service
from registry.unit_of_work import change, read

__all__ = ["routes"]

MAX_OVERLAP_HOURS = 24 * 30


def _actor(email: str) -> str:
    return f"portal:{email}"


async def list_apps(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        apps = self_service.own_applications(session, developer)
        return render(request, "apps.html", user=developer, apps=apps, now=utcnow(), error=None)


async def create_app(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "name", "description")
    ctx = context(request)

    def work() -> str:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = applications.create_application(
                session,
                developer=developer,
                name=values["name"],
                description=values["description"],
                plan=self_service.default_plan(session),
                actor=_actor(developer.email),
            )
            return app.id

    app_id = await in_thread(work)
    flash(request, f"Application {values['name']} created. Issue a key to call APIs.")
    return RedirectResponse(f"/account/apps/{app_id}", status_code=303)


async def show_app(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        app = self_service.own_application(session, developer, request.path_params["app_id"])
        return render(
            request,
            "app.html",
            user=developer,
            app=app,
            entitlements=entitlements.application_entitlements(session, app),
            now=utcnow(),
        )


async def rename_app(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "name")
    ctx = context(request)
    app_id = request.path_params["app_id"]

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            app = self_service.own_application(session, developer, app_id)
            self_service.rename_application(session, app, values["name"], actor=_actor(developer.email))

    await in_thread(work)
    flash(request, f"Application renamed to {values['name']}.")
    return RedirectResponse(f"/account/apps/{app_id}", status_code=303)


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


async def rotate_key(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "overlap_hours")
    ctx = context(request)
    try:
        hours = float(values["overlap_hours"] or "24")
    except ValueError:
        raise InvalidInput("the overlap is a number of hours") from None
    if not 0 <= hours <= MAX_OVERLAP_HOURS:
        raise InvalidInput(f"the overlap is between 0 and {MAX_OVERLAP_HOURS} hours")

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
    Route("/account/apps/{app_id}/delete", delete_app, methods=["POST"]),
    Route("/account/apps/{app_id}/keys", issue_key, methods=["POST"]),
    Route("/account/keys/{key_id}/rotate", rotate_key, methods=["POST"]),
    Route("/account/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
]
