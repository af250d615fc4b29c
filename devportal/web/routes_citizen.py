"""The citizen's page, "Who accessed my data" (issue 16): a person signs in through the identity
federation (citizen_oidc.py) and sees each access to their data recorded by the gateway, filters it by
period and organisation, and downloads it as CSV or JSON.

    GET  /my-data/                 the page (the sign-in prompt when signed out)
    GET  /my-data/signin           to the identity provider
    GET  /my-data/callback         back from it: the session cookie (citizen_session.py) is opened
    GET  /my-data/accesses.csv     the same rows as the page, with the same filters
    GET  /my-data/accesses.json
    POST /my-data/signout          (CSRF token of the citizen's session)

Whose rows are shown comes from the signed session cookie alone, never from the URL, a form or a
header: no parameter names a person. Without the federation configured every page answers 503.
Answers are `Cache-Control: no-store`: they are about one person.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import Forbidden, InvalidInput, Unauthorized, Unavailable
from agora.pseudonyms import key_ring
from devportal.web.accounts import current_developer
from devportal.web.citizen_oidc import CitizenOidc, begin_sign_in, finish_sign_in
from devportal.web.citizen_session import CitizenCookies, CitizenSession
from devportal.web.context import PortalContext, context, in_thread
from devportal.web.csrf import FIELD
from devportal.web.form_errors import GENERAL, FormErrors, sentence
from devportal.web.templating import flash, render
from registry.services.personal_data_export import to_csv, to_json
from registry.services.personal_data_labels import labels
from registry.services.personal_data_queries import (
    Accesses,
    AccessFilter,
    citizen_accesses,
    organisations,
    parse_filter,
    subject_pseudonyms,
)
from registry.unit_of_work import read

__all__ = ["SHOWN", "routes"]

_NO_STORE = {"Cache-Control": "no-store"}
_FILTERS = ("from", "to", "organisation")
SHOWN = 500  # rows on the page; the downloads carry them all (up to the queries' cap)


def _oidc(ctx: PortalContext) -> CitizenOidc:
    if ctx.citizen is None:
        raise Unavailable(
            "seeing who accessed your data needs a sign-in through the identity federation, "
            "which this portal does not offer"
        )
    return ctx.citizen


def _cookies(ctx: PortalContext) -> CitizenCookies:
    return CitizenCookies(ctx.settings.session_secret, secure=ctx.secure_cookies)


def _redirect_uri(ctx: PortalContext) -> str:
    return ctx.settings.portal_url.rstrip("/") + "/my-data/callback"


def _private(response: Response) -> Response:
    response.headers.update(_NO_STORE)
    return response


def _signed_out(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    with read(context(request).sessions) as session:
        user = current_developer(request, session)
    return _private(render(request, "my_data_signin.html", status=status, user=user, error=error))


def _field_of(exc: InvalidInput) -> str:
    return next((name for name in _FILTERS if exc.detail.startswith(name + " ")), GENERAL)


def page(request: Request) -> Response:  # sync: Starlette runs it in its thread pool (database)
    ctx = context(request)
    _oidc(ctx)
    citizen = _cookies(ctx).session(request)
    if citizen is None:
        return _signed_out(request)
    values = {name: request.query_params.get(name, "").strip() for name in _FILTERS}
    errors = FormErrors()
    try:
        filters: AccessFilter | None = parse_filter(request.query_params)
    except InvalidInput as exc:
        errors[_field_of(exc)] = sentence(exc.detail)
        filters = None
    with read(ctx.sessions) as session:
        user = current_developer(request, session)
        found = (
            citizen_accesses(session, citizen.pseudonyms, filters, limit=SHOWN)
            if filters is not None
            else Accesses([], False)
        )
        names = labels(session, found.rows)
        rows = [(row, names[(row.agency, row.api, row.version)]) for row in found.rows]
        choices = organisations(session, pseudonyms=citizen.pseudonyms)
    return _private(
        render(
            request,
            "my_data.html",
            status=422 if errors else 200,
            user=user,
            errors=errors,
            values=values,
            rows=rows,
            truncated=found.truncated,
            organisations=choices,
            filtered=any(values.values()),
            query=urlencode({k: v for k, v in values.items() if v}),
            citizen_csrf=citizen.csrf,
        )
    )


async def sign_in(request: Request) -> Response:
    ctx = context(request)
    url, login = await begin_sign_in(_oidc(ctx), _redirect_uri(ctx))
    response = RedirectResponse(url, status_code=303)
    _cookies(ctx).start_login(response, login)
    return _private(response)


async def callback(request: Request) -> Response:
    ctx = context(request)
    oidc = _oidc(ctx)
    cookies = _cookies(ctx)
    login = cookies.login(request)
    try:
        if login is None:
            raise Unauthorized("the sign-in took too long, or was started in another browser: start again")
        identifier = await finish_sign_in(oidc, request.query_params, login, _redirect_uri(ctx))
        # Only the pseudonyms are kept; the identifier itself goes no further than this line.
        pseudonyms = subject_pseudonyms(identifier, key_ring(platform_hmac_key=ctx.settings.hmac_key))
    except (Unauthorized, InvalidInput, Unavailable) as exc:
        status = 503 if isinstance(exc, Unavailable) else 401
        failed = await in_thread(_signed_out, request, error=sentence(exc.detail), status=status)
        cookies.forget_login(failed)
        return failed
    response = RedirectResponse("/my-data/", status_code=303)
    cookies.open_session(response, pseudonyms)
    return _private(response)


def _download_rows(request: Request) -> tuple[Accesses, AccessFilter]:
    ctx = context(request)
    _oidc(ctx)
    citizen: CitizenSession | None = _cookies(ctx).session(request)
    if citizen is None:
        raise Unauthorized("sign in to download who accessed your data")
    filters = parse_filter(request.query_params)
    with read(ctx.sessions) as session:
        return citizen_accesses(session, citizen.pseudonyms, filters), filters


def _attachment(name: str) -> dict[str, str]:
    return {**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}


def download_csv(request: Request) -> Response:
    found, _ = _download_rows(request)
    headers = _attachment("who-accessed-my-data.csv")
    return Response(to_csv(found.rows), media_type="text/csv; charset=utf-8", headers=headers)


def download_json(request: Request) -> Response:
    found, filters = _download_rows(request)
    headers = _attachment("who-accessed-my-data.json")
    return Response(to_json(found, filters), media_type="application/json", headers=headers)


async def sign_out(request: Request) -> Response:
    ctx = context(request)
    cookies = _cookies(ctx)
    citizen = cookies.session(request)
    response = RedirectResponse("/my-data/", status_code=303)
    if citizen is None:  # nothing to close: cookies are left alone (a forged post changes nothing)
        return response
    form = await request.form()
    sent = form.get(FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), citizen.csrf.encode()):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again")
    cookies.close_session(response)
    flash(
        request,
        "You are signed out of this page. On a shared computer, also sign out at your identity provider.",
    )
    return _private(response)


async def bare(request: Request) -> Response:
    return RedirectResponse("/my-data/", status_code=308)


routes = [
    Route("/my-data", bare, methods=["GET"]),
    Route("/my-data/", page, methods=["GET"]),
    Route("/my-data/signin", sign_in, methods=["GET"]),
    Route("/my-data/callback", callback, methods=["GET"]),
    Route("/my-data/accesses.csv", download_csv, methods=["GET"]),
    Route("/my-data/accesses.json", download_json, methods=["GET"]),
    Route("/my-data/signout", sign_out, methods=["POST"]),
]
