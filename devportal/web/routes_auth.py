"""Sign-up with email verification, sign-in, sign-out. Sign-up and sign-in are limited per client
address (throttle.py)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import AgoraError
from devportal.web.accounts import current_developer, sign_in, sign_out
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from devportal.web.throttle import Refusal, attempt
from devportal.web.verification import check_token, make_token
from registry.models import Developer
from registry.services import accounts
from registry.unit_of_work import change, read

__all__ = ["routes", "safe_next"]


def _too_many(page: Response, refused: Refusal) -> Response:
    page.headers["Retry-After"] = str(refused.retry_after)
    return page


def safe_next(value: str | None) -> str:
    """Only local paths: `next=https://evil.example` must not turn sign-in into an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/account/"


async def signup_form(request: Request) -> Response:
    return render(request, "signup.html", values={}, error=None)


async def signup(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "email", "name", "password")
    ctx = context(request)
    refused = await attempt(request, "signup")
    if refused is not None:
        return _too_many(
            render(request, "signup.html", status=429, values=values, error=refused.detail), refused
        )

    def work() -> tuple[int, str]:
        with change(ctx.sessions) as session:
            developer = accounts.sign_up(
                session, email=values["email"], password=values["password"], name=values["name"]
            )
            return developer.id, developer.email

    try:
        developer_id, email = await in_thread(work)
    except AgoraError as exc:
        return render(request, "signup.html", status=exc.status, values=values, error=exc.detail)
    token = make_token(ctx.settings.session_secret, developer_id, email)
    link = f"{ctx.settings.portal_url.rstrip('/')}/account/verify?token={quote(token)}"
    await in_thread(
        ctx.mailer.send,
        email,
        "Confirm your email for the Agora developer portal",
        "Welcome to Agora.\n\nConfirm your email address by opening this link (valid 48 hours):\n\n"
        f"{link}\n\n"
        "If you did not sign up, ignore this message.\n",
    )
    return render(request, "message.html", title="Check your email", text=f"We sent a link to {email}.")


async def verify(request: Request) -> Response:
    ctx = context(request)
    developer_id, email = check_token(ctx.settings.session_secret, request.query_params.get("token", ""))

    def work() -> Developer:
        with change(ctx.sessions) as session:
            return accounts.mark_verified(session, developer_id, email)

    developer = await in_thread(work)
    sign_in(request, developer)
    flash(request, "Your email is confirmed. Create an application to get a key.")
    return RedirectResponse("/account/apps", status_code=303)


async def signin_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    oidc = context(request).oidc is not None
    return render(request, "signin.html", values={}, error=None, next=next_path, oidc=oidc)


async def signin(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "email", "password", "next")
    ctx = context(request)
    refused = await attempt(request, "signin")
    if refused is not None:
        page = render(
            request,
            "signin.html",
            status=429,
            values={"email": values["email"]},
            error=refused.detail,
            next=safe_next(values["next"]),
            oidc=ctx.oidc is not None,
        )
        return _too_many(page, refused)

    def work() -> Developer:
        with change(ctx.sessions) as session:  # a change: the hash may be upgraded on sign-in
            return accounts.authenticate(session, email=values["email"], password=values["password"])

    try:
        developer = await in_thread(work)
    except AgoraError as exc:
        return render(
            request,
            "signin.html",
            status=exc.status,
            values={"email": values["email"]},
            error=exc.detail,
            next=safe_next(values["next"]),
            oidc=ctx.oidc is not None,
        )
    sign_in(request, developer)
    return RedirectResponse(safe_next(values["next"]), status_code=303)


async def signout(request: Request) -> Response:
    await check_csrf(request)
    sign_out(request)
    return RedirectResponse("/", status_code=303)


async def home(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = current_developer(request, session)
        if developer is None:
            return RedirectResponse("/account/signin", status_code=303)
        admin_of = accounts.admin_agencies(session, developer)
        return render(request, "home.html", user=developer, admin_of=admin_of)


routes = [
    Route("/account/", home),
    Route("/account/signup", signup_form, methods=["GET"]),
    Route("/account/signup", signup, methods=["POST"]),
    Route("/account/verify", verify, methods=["GET"]),
    Route("/account/signin", signin_form, methods=["GET"]),
    Route("/account/signin", signin, methods=["POST"]),
    Route("/account/signout", signout, methods=["POST"]),
]
