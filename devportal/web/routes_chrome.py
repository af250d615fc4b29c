"""What the static pages' header needs from the portal: who is signed in (`/account/api/me`, read by
account-state.js), and the chrome's CSS and script, with the identity's colours (`identity.css`)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from devportal.identity import load_identity, theme_css
from devportal.web.accounts import current_developer
from devportal.web.context import context
from registry.services import accounts
from registry.unit_of_work import read

__all__ = ["routes"]

CHROME_STATIC = Path(__file__).parents[1] / "chrome" / "static"


def me(request: Request) -> Response:  # sync: Starlette runs it in its thread pool (database)
    with read(context(request).sessions) as session:
        developer = current_developer(request, session)
        body: dict[str, object] = {"signed_in": developer is not None}
        if developer is not None:
            body["email"] = developer.email
            body["agency_admin"] = bool(accounts.admin_agencies(session, developer))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def identity_css(request: Request) -> Response:
    return Response(theme_css(load_identity()), media_type="text/css")


routes = [
    Route("/account/api/me", me, methods=["GET"]),
    Route("/account/chrome/identity.css", identity_css, methods=["GET"]),
    Mount("/account/chrome", app=StaticFiles(directory=CHROME_STATIC), name="chrome-static"),
]
