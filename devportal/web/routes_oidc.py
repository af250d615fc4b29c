"""Sign-in through an OpenID Provider (authorization code flow with PKCE, by authlib), configured by
`AGORA_OIDC_ISSUER`, `AGORA_OIDC_CLIENT_ID`, `AGORA_OIDC_CLIENT_SECRET`. The provider's
`(issuer, sub)` is linked to a portal account (see `registry.services.accounts.link_identity`)."""

from __future__ import annotations

import os
from typing import Any

from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import Unauthorized
from devportal.web.accounts import sign_in
from devportal.web.context import context, in_thread
from devportal.web.templating import flash
from registry.services import accounts
from registry.unit_of_work import change

__all__ = ["oidc_client_from_env", "routes"]


def oidc_client_from_env() -> Any | None:
    issuer = os.environ.get("AGORA_OIDC_ISSUER")
    if not issuer:
        return None
    oauth = OAuth()
    return oauth.register(
        name="agora",
        client_id=os.environ.get("AGORA_OIDC_CLIENT_ID", "agora-portal"),
        client_secret=os.environ.get("AGORA_OIDC_CLIENT_SECRET"),
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )


async def login(request: Request) -> Response:
    client = context(request).oidc
    if client is None:
        raise Unauthorized("sign-in through an identity provider is not configured on this portal")
    redirect_uri = context(request).settings.portal_url.rstrip("/") + "/account/oidc/callback"
    response: Response = await client.authorize_redirect(request, redirect_uri)
    return response


async def callback(request: Request) -> Response:
    ctx = context(request)
    if ctx.oidc is None:
        raise Unauthorized("sign-in through an identity provider is not configured on this portal")
    try:
        token = await ctx.oidc.authorize_access_token(request)
    except OAuthError as exc:
        raise Unauthorized(
            f"the identity provider did not sign you in: {exc.description or exc.error}"
        ) from exc
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims:
        # Conforming providers put only `sub` in the ID token when an access token is issued; the
        # email comes from the userinfo endpoint (for the same subject, checked below).
        extra = dict(await ctx.oidc.userinfo(token=token))
        if extra.get("sub") != claims.get("sub"):
            raise Unauthorized("the identity provider answered for another subject")
        claims.update(extra)
    metadata = await ctx.oidc.load_server_metadata()
    issuer = str(claims.get("iss") or metadata.get("issuer"))

    def work() -> None:
        with change(ctx.sessions) as session:
            developer = accounts.link_identity(
                session,
                issuer=issuer,
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
