"""Errors become an HTML page for browsers and an RFC 9457 problem document for JSON clients
(`/account/api/...`, or `Accept: application/json`). Signed-out browsers are sent to sign in."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agora.access_log import redact_relayed_path
from agora.errors import PROBLEM_BASE, AgoraError, Unauthorized
from devportal.web.accounts import current_developer
from devportal.web.context import context
from devportal.web.form_errors import sentence
from devportal.web.relay import PREFIX as RELAYED
from devportal.web.templating import render
from registry.admin.problems import problem
from registry.unit_of_work import read

__all__ = ["agora_error", "http_error", "unexpected_error", "wants_json"]

log = logging.getLogger("agora.portal")


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/account/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    """The error page in the portal's design, with the header of whoever is signed in."""
    user = None
    if "session" in request.scope:
        try:
            with read(context(request).sessions) as session:
                user = current_developer(request, session)
        except Exception:  # an error page must show even when the registry cannot be read
            log.warning("error page without the signed-in state", exc_info=True)
    text = sentence(detail)
    return render(
        request,
        "error.html",
        status=status,
        user=user,
        title=title,
        detail=text + ("" if text[-1:] in ".?!" else "."),
    )


async def agora_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AgoraError)
    if wants_json(request):
        return problem(exc.problem(instance=request.url.path))
    if isinstance(exc, Unauthorized) and request.method == "GET":
        if request.url.path.startswith("/my-data/"):  # a citizen: their own sign-in, not an account's
            return RedirectResponse("/my-data/", status_code=303)
        return RedirectResponse(f"/account/signin?next={quote(request.url.path)}", status_code=303)
    return _page(request, exc.status, exc.title, exc.detail)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = {404: "Page not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    if wants_json(request):
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        body = {
            "type": PROBLEM_BASE + slug,
            "title": title,
            "status": exc.status_code,
            "detail": str(exc.detail),
        }
        return problem(body)
    return _page(request, exc.status_code, title, "There is no page at this address.")


async def unexpected_error(request: Request, exc: Exception) -> Response:
    path = redact_relayed_path(request.url.path, RELAYED)  # as the access log writes it
    log.exception("unexpected error on %s %s", request.method, path)
    if wants_json(request):
        body = {"type": PROBLEM_BASE + "internal-error", "title": "Internal error", "status": 500}
        return problem({**body, "detail": "an unexpected error occurred; it has been logged"})
    return _page(request, 500, "Something went wrong", "An unexpected error occurred; it has been logged.")
