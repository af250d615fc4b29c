"""Sign-up with email verification, sign-in, sign-out. Sign-up and sign-in are limited per client
address (throttle.py)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import AgoraError
from devportal.web import reset_links
from devportal.web.accounts import current_developer, sign_in, sign_out
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from devportal.web.throttle import Refusal, attempt
from devportal.web.verification import check_token, make_token
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


def signup_form(request: Request) -> Response:
    return render(request, "signup.html", values={}, error=None)


async def signup(request: Request) -> Response:
    """Answers the same for a new and a known address (status, page, time: the password is hashed
    either way). A known address is never changed: its owner gets a mail saying someone tried, with a
    password reset link (issue 14, items 5 and 12)."""
    await check_csrf(request)
    values = await form_fields(request, "email", "name", "password")
    ctx = context(request)
    refused = await attempt(request, "signup")
    if refused is not None:
        return _too_many(
            render(request, "signup.html", status=429, values=values, error=refused.detail), refused
        )

    def work() -> tuple[bool, int, str, str]:
        with change(ctx.sessions) as session:
            result = accounts.sign_up(
                session, email=values["email"], password=values["password"], name=values["name"]
            )
            developer = result.developer
            return result.created, developer.id, developer.email, accounts.password_fingerprint(developer)

    try:
        created, developer_id, email, fingerprint = await in_thread(work)
    except AgoraError as exc:
        return render(request, "signup.html", status=exc.status, values=values, error=exc.detail)
    portal = ctx.settings.portal_url.rstrip("/")
    if created:
        token = make_token(ctx.settings.session_secret, developer_id, email)
        subject = "Confirm your email for the Agora developer portal"
        body = (
            "Welcome to Agora.\n\nConfirm your email address by opening this link (valid 48 hours):\n\n"
            f"{portal}/account/verify?token={quote(token)}\n\n"
            "If you did not sign up, ignore this message.\n"
        )
    else:
        reset = reset_links.make_token(ctx.settings.session_secret, developer_id, email, fingerprint)
        subject = "Someone tried to sign up with your address"
        body = (
            "Someone (perhaps you) tried to create an Agora developer portal account with this address.\n"
            "You already have an account; it has not been changed.\n\n"
            f"If it was you, sign in: {portal}/account/signin\n\n"
            "If you forgot your password, or never set one, choose a new one here (valid 1 hour, once):\n\n"
            f"{portal}/account/reset/password?token={quote(reset)}\n\n"
            "If it was not you, ignore this message.\n"
        )
    await in_thread(ctx.mailer.send, email, subject, body)
    return render(request, "message.html", title="Check your email", text=f"We sent a link to {email}.")


async def verify(request: Request) -> Response:
    """A confirmation link confirms once and signs in that once; opened again (another browser, a
    forwarded mail) it signs nobody in."""
    ctx = context(request)
    developer_id, email = check_token(ctx.settings.session_secret, request.query_params.get("token", ""))

    def work() -> bool:
        with change(ctx.sessions) as session:
            developer = accounts.mark_verified(session, developer_id, email)
            if developer is not None:
                sign_in(request, session, developer)
            return developer is not None

    if not await in_thread(work):
        return render(
            request,
            "message.html",
            title="Email already confirmed",
            text="This address is confirmed already. Sign in with your password.",
        )
    flash(request, "Your email is confirmed. Create an application to get a key.")
    return RedirectResponse("/account/apps", status_code=303)


def signin_form(request: Request) -> Response:
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

    def work() -> None:
        with change(ctx.sessions) as session:  # a change: the hash may be upgraded on sign-in
            developer = accounts.authenticate(session, email=values["email"], password=values["password"])
            sign_in(request, session, developer)

    try:
        await in_thread(work)
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
    return RedirectResponse(safe_next(values["next"]), status_code=303)


async def signout(request: Request) -> Response:
    await check_csrf(request)
    ctx = context(request)

    def work() -> None:
        # Not a `change`: a session row is no part of the gateway's snapshot, nothing to recompile.
        with ctx.sessions.begin() as session:
            sign_out(request, session)

    await in_thread(work)
    return RedirectResponse("/", status_code=303)


def home(request: Request) -> Response:
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
