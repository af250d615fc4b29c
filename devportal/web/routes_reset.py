"""Password reset: ask for a link by email, follow it, choose a new password. The link is valid one
hour and works once (`reset_links`); using it proves the mailbox, so it also confirms the email, and
it closes every other session of the account. The request form answers the same whether or not the
address has an account (status, page, and time: the mail goes out after the answer), and is limited per
client address like sign-up (throttle.py)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import AgoraError
from devportal.web import reset_links
from devportal.web.accounts import sign_in
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from devportal.web.throttle import attempt
from registry.services import accounts
from registry.unit_of_work import change, read

__all__ = ["routes"]


def request_form(request: Request) -> Response:
    return render(request, "reset_request.html", values={}, error=None)


async def request_link(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "email")
    ctx = context(request)
    refused = await attempt(request, "reset")
    if refused is not None:
        page = render(request, "reset_request.html", status=429, values=values, error=refused.detail)
        page.headers["Retry-After"] = str(refused.retry_after)
        return page

    def work() -> tuple[int, str, str] | None:
        with read(ctx.sessions) as session:
            developer = accounts.find_developer(session, values["email"])
            if developer is None:
                return None
            return developer.id, developer.email, accounts.password_fingerprint(developer)

    found = await in_thread(work)
    text = "If an account has this address, we sent it a link to choose a new password."
    page = render(request, "message.html", title="Check your email", text=text)
    if found is not None:
        developer_id, email, fingerprint = found
        token = reset_links.make_token(ctx.settings.session_secret, developer_id, email, fingerprint)
        # Sent after the answer: a known address must not answer slower than an unknown one.
        page.background = BackgroundTask(
            ctx.mailer.send,
            email,
            "Reset your Agora developer portal password",
            "Choose a new password by opening this link (valid 1 hour, once):\n\n"
            f"{ctx.settings.portal_url.rstrip('/')}/account/reset/password?token={quote(token)}\n\n"
            "If you did not ask for it, ignore this message: your password has not changed.\n",
        )
    return page


def password_form(request: Request) -> Response:
    token = request.query_params.get("token", "")
    reset_links.check_token(context(request).settings.session_secret, token)  # a clear error early
    return render(request, "reset_password.html", token=token, error=None)


async def set_password(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "token", "password")
    ctx = context(request)
    developer_id, email, fingerprint = reset_links.check_token(ctx.settings.session_secret, values["token"])

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = accounts.reset_password(
                session,
                developer_id=developer_id,
                email=email,
                fingerprint=fingerprint,
                password=values["password"],
            )
            sign_in(request, session, developer)

    try:
        await in_thread(work)
    except AgoraError as exc:
        return render(
            request, "reset_password.html", status=exc.status, token=values["token"], error=exc.detail
        )
    flash(request, "Your password has been changed; other sessions of your account were signed out.")
    return RedirectResponse("/account/", status_code=303)


routes = [
    Route("/account/reset", request_form, methods=["GET"]),
    Route("/account/reset", request_link, methods=["POST"]),
    Route("/account/reset/password", password_form, methods=["GET"]),
    Route("/account/reset/password", set_password, methods=["POST"]),
]
