"""The portal as an OpenID Connect relying party, shared by its two sign-ins: the developers'
(routes_oidc.py, `AGORA_OIDC_*`) and the citizens' (citizen_oidc.py, `AGORA_CITIZEN_OIDC_*`). One
registration and one set of checks, so neither sign-in trusts a provider's answer more than the other.

authlib runs the authorization code flow with PKCE (S256), `state` and `nonce`, and verifies the ID
token (signature by the provider's published keys, issuer, audience, expiry, nonce). On top, in this
order, what a careful relying party adds:

1. the answer belongs to the sign-in this browser started (`state`), before anything else in it is
   read: a crafted link must not put its `error_description` on a portal page;
2. then the provider's error, if it reports one;
3. the discovered metadata names the configured issuer (authlib checks the ID token's `iss` against the
   metadata's: a document naming another issuer would make that issuer's tokens acceptable);
4. an answer that says where it comes from (`iss`, RFC 9207) comes from that issuer (mix-up);
5. an ID token is required (it carries the nonce);
6. a claim the ID token lacks is taken from the userinfo endpoint only when that endpoint answers for
   the ID token's subject.

What a sign-in keeps between its start and the provider's answer (`LoginState`) is the caller's to
store where only the browser that started it can bring it back (a signed cookie).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from joserfc.errors import JoseError

from agora.errors import Unauthorized, Unavailable

__all__ = [
    "LoginState",
    "OidcClient",
    "begin_sign_in",
    "checked_metadata",
    "finish_sign_in",
    "normal_issuer",
    "register",
]


@dataclass(frozen=True, slots=True)
class LoginState:
    """What the answer is checked against: made when the sign-in starts, spent when it ends."""

    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class OidcClient:
    issuer: str  # as configured, without a trailing slash
    client_id: str
    scope: str
    app: Any  # authlib's StarletteOAuth2App


def normal_issuer(issuer: str) -> str:
    return issuer.strip().rstrip("/")


def register(name: str, *, issuer: str, client_id: str, client_secret: str | None, scope: str) -> OidcClient:
    """A client of the provider at `issuer` (discovery at `/.well-known/openid-configuration`).
    `openid` is always asked: an ID token, hence a nonce."""
    scopes = scope.split()
    scope = " ".join(["openid", *[s for s in scopes if s != "openid"]])
    issuer = normal_issuer(issuer)
    app = OAuth().register(
        name=name,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=issuer + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic" if client_secret else "none",
            "timeout": 10.0,
        },
    )
    return OidcClient(issuer=issuer, client_id=client_id, scope=scope, app=app)


async def checked_metadata(client: OidcClient) -> Mapping[str, Any]:
    """The provider's metadata, which must name the configured issuer."""
    try:
        metadata: Mapping[str, Any] = await client.app.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(f"the identity provider cannot be reached: {exc}") from exc
    if normal_issuer(str(metadata.get("issuer", ""))) != client.issuer:
        raise Unavailable(f"the identity provider's metadata names another issuer than {client.issuer}")
    return metadata


async def begin_sign_in(client: OidcClient, redirect_uri: str) -> tuple[str, LoginState]:
    """The provider's authorization URL to send the browser to, and what to keep until it comes back."""
    await checked_metadata(client)
    started = await client.app.create_authorization_url(redirect_uri)
    return started["url"], LoginState(started["state"], started["nonce"], started["code_verifier"])


def _refused(what: str) -> Unauthorized:
    return Unauthorized(f"the identity provider did not sign you in: {what}")


async def finish_sign_in(
    client: OidcClient, params: Mapping[str, str], login: LoginState, redirect_uri: str, *, wanted: str
) -> dict[str, Any]:
    """The verified claims of the signed-in subject: the ID token's, completed from the userinfo
    endpoint when the ID token lacks the `wanted` claim (providers put only `sub` in an ID token issued
    beside an access token)."""
    sent = params.get("state", "")
    if not login.state or not hmac.compare_digest(sent.encode(), login.state.encode()):
        raise Unauthorized("this answer does not belong to the sign-in this browser started; start again")
    if params.get("error"):
        raise _refused(params.get("error_description") or params["error"])
    metadata = await checked_metadata(client)
    if "iss" in params and normal_issuer(params["iss"]) != normal_issuer(str(metadata["issuer"])):
        raise Unauthorized("the answer came from another identity provider than the one asked")
    if not params.get("code"):
        raise _refused("no authorization code in its answer")
    try:
        token = await client.app.fetch_access_token(
            redirect_uri=redirect_uri, code=params["code"], code_verifier=login.code_verifier
        )
        if "id_token" not in token:
            raise _refused("its answer has no ID token")
        claims = dict(await client.app.parse_id_token(token, nonce=login.nonce))
        if claims.get(wanted) is None:
            extra = dict(await client.app.userinfo(token=token))
            if extra.get("sub") != claims.get("sub"):
                raise _refused("its userinfo endpoint answered for another person")
            claims = {**extra, **claims}  # what the ID token says wins
    except (AuthlibBaseError, JoseError) as exc:
        raise _refused(str(getattr(exc, "description", None) or exc)) from exc
    except httpx.HTTPError as exc:
        raise Unavailable(f"the identity provider cannot be reached: {exc}") from exc
    return claims
