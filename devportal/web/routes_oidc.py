"""Developers' sign-in through an OpenID Provider, configured by `AGORA_OIDC_ISSUER`,
`AGORA_OIDC_CLIENT_ID` (default `agora-portal`), `AGORA_OIDC_CLIENT_SECRET`. The provider's
`(issuer, sub)` is linked to a portal account (see `registry.services.accounts.link_identity`).

The flow and its checks are the portal's one relying party (oidc_client.py), the same as the citizens'
sign-in: PKCE, `state` checked before anything else, `nonce`, the ID token verified, the metadata's
issuer and the answer's `iss` (RFC 9207) must be the configured issuer, an email from the userinfo
endpoint only when it answers for the ID token's subject. What the callback checks the answer against
waits in the portal's signed session cookie for 10 minutes and serves once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import Unauthorized
from devportal.web import oidc_client
from devportal.web.accounts import sign_in
from devportal.web.context import PortalContext, context, in_thread
from devportal.web.oidc_client import LoginState, OidcClient
from devportal.web.templating import flash
from registry.services import accounts
from registry.unit_of_work import change

__all__ = ["LOGIN_KEY", "LOGIN_SECONDS", "oidc_client_from_env", "routes"]

LOGIN_KEY = "oidc_login"  # in the portal's session: the sign-in under way
LOGIN_SECONDS = 600


def oidc_client_from_env(env: Mapping[str, str] | None = None) -> OidcClient | None:
    env = os.environ if env is None else env
    issuer = (env.get("AGORA_OIDC_ISSUER") or "").strip()
    if not issuer:
        return None
    return oidc_client.register(
        "agora",
        issuer=issuer,
        client_id=env.get("AGORA_OIDC_CLIENT_ID") or "agora-portal",
        client_secret=env.get("AGORA_OIDC_CLIENT_SECRET") or None,
        scope="openid email profile",
    )


def _client(ctx: PortalContext) -> OidcClient:
    if ctx.oidc is None:
        raise Unauthorized("sign-in through an identity provider is not configured on this portal")
    return ctx.oidc


def _redirect_uri(ctx: PortalContext) -> str:
    return ctx.settings.portal_url.rstrip("/") + "/account/oidc/callback"


def _spend_login(request: Request) -> LoginState | None:
    """The sign-in this browser started, if it is recent; whatever the answer, it serves once."""
    kept = request.session.pop(LOGIN_KEY, None)
    if not (isinstance(kept, list) and len(kept) == 4 and all(isinstance(x, str) and x for x in kept[:3])):
        return None
    if not isinstance(kept[3], int) or not 0 <= time.time() - kept[3] <= LOGIN_SECONDS:
        return None
    return LoginState(kept[0], kept[1], kept[2])


async def login(request: Request) -> Response:
    ctx = context(request)
    url, started = await oidc_client.begin_sign_in(_client(ctx), _redirect_uri(ctx))
    request.session[LOGIN_KEY] = [started.state, started.nonce, started.code_verifier, int(time.time())]
    return RedirectResponse(url, status_code=303)


async def callback(request: Request) -> Response:
    ctx = context(request)
    client = _client(ctx)
    started = _spend_login(request)
    if started is None:
        raise Unauthorized("the sign-in took too long, or was started in another browser: start again")
    claims = await oidc_client.finish_sign_in(
        client, request.query_params, started, _redirect_uri(ctx), wanted="email"
    )

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = accounts.link_identity(
                session,
                issuer=str(claims["iss"]),  # the ID token's, checked to be the configured issuer's
                subject=str(claims["sub"]),
                email=claims.get("email"),
                email_verified=claims.get("email_verified") is True,
                name=str(claims.get("name") or ""),
            )
            sign_in(request, session, developer)

    await in_thread(work)
    flash(request, "Signed in through your identity provider.")
    return RedirectResponse("/account/", status_code=303)


routes = [
    Route("/account/oidc/login", login, methods=["GET"]),
    Route("/account/oidc/callback", callback, methods=["GET"]),
]
