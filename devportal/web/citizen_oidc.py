"""A citizen's sign-in through the identity federation (an OpenID Provider such as FranceConnect), to see
who accessed their data (issue 16). Separate from the developers' sign-in (routes_oidc.py): another
provider, another client, and no portal account: the person is only the identifier a claim gives.

Authorization code flow with PKCE (S256), `state` and `nonce`, by authlib (the same library as the
developers' sign-in): the ID token's signature (the provider's published keys), issuer, audience,
expiry and nonce are checked. On top, what a careful relying party adds: the discovered metadata must
name the configured issuer, an authorization response that says where it comes from (`iss`, RFC 9207)
must come from it, an ID token is required, and a claim taken from the userinfo endpoint must be about
the same subject as the ID token.

Configuration (all unset: the citizen's page says the service is not available on this portal):

    AGORA_CITIZEN_OIDC_ISSUER          the provider's issuer URL (discovery at /.well-known/...)
    AGORA_CITIZEN_OIDC_CLIENT_ID       the portal's client id at that provider (required with an issuer)
    AGORA_CITIZEN_OIDC_CLIENT_SECRET   its secret (unset: a public client, PKCE only)
    AGORA_CITIZEN_OIDC_SUBJECT_CLAIM   the claim holding the identifier the APIs receive (default `sub`)
    AGORA_CITIZEN_OIDC_SCOPE           the scopes asked (default `openid`; `openid` is always asked)
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from joserfc.errors import JoseError

from agora.errors import InvalidInput, Unauthorized, Unavailable

__all__ = ["ENV", "CitizenOidc", "LoginState", "begin_sign_in", "citizen_oidc_from_env", "finish_sign_in"]

ENV = {
    "issuer": "AGORA_CITIZEN_OIDC_ISSUER",
    "client_id": "AGORA_CITIZEN_OIDC_CLIENT_ID",
    "client_secret": "AGORA_CITIZEN_OIDC_CLIENT_SECRET",
    "subject_claim": "AGORA_CITIZEN_OIDC_SUBJECT_CLAIM",
    "scope": "AGORA_CITIZEN_OIDC_SCOPE",
}


@dataclass(frozen=True, slots=True)
class LoginState:
    """What the callback needs from the start of a sign-in; kept in this browser's signed cookie."""

    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class CitizenOidc:
    issuer: str
    client_id: str
    subject_claim: str
    scope: str
    client: Any  # authlib's StarletteOAuth2App


def _normal(issuer: str) -> str:
    return issuer.rstrip("/")


def citizen_oidc_from_env(env: Mapping[str, str] | None = None) -> CitizenOidc | None:
    env = os.environ if env is None else env
    issuer = (env.get(ENV["issuer"]) or "").strip()
    if not issuer:
        return None
    client_id = (env.get(ENV["client_id"]) or "").strip()
    if not client_id:
        raise InvalidInput(f"{ENV['client_id']} is required when {ENV['issuer']} is set")
    secret = env.get(ENV["client_secret"]) or None
    scopes = (env.get(ENV["scope"]) or "openid").split()
    scope = " ".join(["openid", *[s for s in scopes if s != "openid"]])  # an ID token, hence a nonce
    client = OAuth().register(
        name="citizen",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=_normal(issuer) + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            "timeout": 10.0,
        },
    )
    claim = (env.get(ENV["subject_claim"]) or "sub").strip()
    return CitizenOidc(
        issuer=_normal(issuer), client_id=client_id, subject_claim=claim, scope=scope, client=client
    )


async def _metadata(oidc: CitizenOidc) -> Mapping[str, Any]:
    try:
        metadata: Mapping[str, Any] = await oidc.client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(f"the identity provider cannot be reached: {exc}") from exc
    if _normal(str(metadata.get("issuer", ""))) != oidc.issuer:
        raise Unavailable(f"the identity provider's metadata names another issuer than {oidc.issuer}")
    return metadata


async def begin_sign_in(oidc: CitizenOidc, redirect_uri: str) -> tuple[str, LoginState]:
    """The provider's authorization URL to send the browser to, and what to keep until it comes back."""
    await _metadata(oidc)
    started = await oidc.client.create_authorization_url(redirect_uri)
    return started["url"], LoginState(started["state"], started["nonce"], started["code_verifier"])


def _refused(what: str) -> Unauthorized:
    return Unauthorized(f"the identity provider did not sign you in: {what}")


async def finish_sign_in(
    oidc: CitizenOidc, params: Mapping[str, str], login: LoginState, redirect_uri: str
) -> str:
    """The signed-in person's identifier (the configured claim), from the provider's answer."""
    if params.get("error"):
        raise _refused(params.get("error_description") or params["error"])
    if not hmac.compare_digest(params.get("state", ""), login.state):
        raise Unauthorized("this answer does not belong to the sign-in this browser started; start again")
    metadata = await _metadata(oidc)
    if "iss" in params and _normal(params["iss"]) != _normal(str(metadata["issuer"])):
        raise Unauthorized("the answer came from another identity provider than the one asked")
    if not params.get("code"):
        raise _refused("no authorization code in its answer")
    try:
        token = await oidc.client.fetch_access_token(
            redirect_uri=redirect_uri, code=params["code"], code_verifier=login.code_verifier
        )
        if "id_token" not in token:
            raise _refused("its answer has no ID token")
        claims = dict(await oidc.client.parse_id_token(token, nonce=login.nonce))
        value = claims.get(oidc.subject_claim)
        if value is None:
            # Providers put only `sub` in the ID token when they issue an access token; the other
            # claims come from the userinfo endpoint, which must answer for the same subject.
            extra = dict(await oidc.client.userinfo(token=token))
            if extra.get("sub") != claims.get("sub"):
                raise _refused("its userinfo endpoint answered for another person")
            value = extra.get(oidc.subject_claim)
    except (AuthlibBaseError, JoseError) as exc:
        raise _refused(str(getattr(exc, "description", None) or exc)) from exc
    except httpx.HTTPError as exc:
        raise Unavailable(f"the identity provider cannot be reached: {exc}") from exc
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _refused(f"it did not give your identifier (claim {oidc.subject_claim!r})")
    return value.strip()
