"""A citizen's sign-in through the identity federation (an OpenID Provider such as FranceConnect), to see
who accessed their data (issue 16). Separate from the developers' sign-in (routes_oidc.py): another
provider, another client, and no portal account: the person is only the identifier a claim gives.

The flow and its checks are the portal's one relying party (oidc_client.py: PKCE, `state` checked
first, `nonce`, the ID token verified, the metadata's issuer and the answer's `iss` (RFC 9207) must be
the configured issuer, userinfo only for the ID token's subject); this module reads the settings and
takes the identifier from the configured claim.

Configuration (all unset: the citizen's page says the service is not available on this portal):

    AGORA_CITIZEN_OIDC_ISSUER          the provider's issuer URL (discovery at /.well-known/...)
    AGORA_CITIZEN_OIDC_CLIENT_ID       the portal's client id at that provider (required with an issuer)
    AGORA_CITIZEN_OIDC_CLIENT_SECRET   its secret (unset: a public client, PKCE only)
    AGORA_CITIZEN_OIDC_SUBJECT_CLAIM   the claim holding the identifier the APIs receive (default `sub`)
    AGORA_CITIZEN_OIDC_SCOPE           the scopes asked (default `openid`; `openid` is always asked)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from agora.errors import InvalidInput, Unauthorized
from devportal.web import oidc_client
from devportal.web.oidc_client import LoginState, OidcClient

__all__ = ["ENV", "CitizenOidc", "LoginState", "begin_sign_in", "citizen_oidc_from_env", "finish_sign_in"]

ENV = {
    "issuer": "AGORA_CITIZEN_OIDC_ISSUER",
    "client_id": "AGORA_CITIZEN_OIDC_CLIENT_ID",
    "client_secret": "AGORA_CITIZEN_OIDC_CLIENT_SECRET",
    "subject_claim": "AGORA_CITIZEN_OIDC_SUBJECT_CLAIM",
    "scope": "AGORA_CITIZEN_OIDC_SCOPE",
}


@dataclass(frozen=True, slots=True)
class CitizenOidc:
    client: OidcClient
    subject_claim: str

    @property
    def issuer(self) -> str:
        return self.client.issuer

    @property
    def scope(self) -> str:
        return self.client.scope


def citizen_oidc_from_env(env: Mapping[str, str] | None = None) -> CitizenOidc | None:
    env = os.environ if env is None else env
    issuer = (env.get(ENV["issuer"]) or "").strip()
    if not issuer:
        return None
    client_id = (env.get(ENV["client_id"]) or "").strip()
    if not client_id:
        raise InvalidInput(f"{ENV['client_id']} is required when {ENV['issuer']} is set")
    client = oidc_client.register(
        "citizen",
        issuer=issuer,
        client_id=client_id,
        client_secret=env.get(ENV["client_secret"]) or None,
        scope=env.get(ENV["scope"]) or "openid",
    )
    claim = (env.get(ENV["subject_claim"]) or "sub").strip()
    return CitizenOidc(client=client, subject_claim=claim)


async def begin_sign_in(oidc: CitizenOidc, redirect_uri: str) -> tuple[str, LoginState]:
    """The provider's authorization URL to send the browser to, and what to keep until it comes back."""
    return await oidc_client.begin_sign_in(oidc.client, redirect_uri)


async def finish_sign_in(
    oidc: CitizenOidc, params: Mapping[str, str], login: LoginState, redirect_uri: str
) -> str:
    """The signed-in person's identifier (the configured claim), from the provider's answer. Returned as
    the provider gave it: pseudonymising normalises it (agora/pseudonyms.py)."""
    claims = await oidc_client.finish_sign_in(
        oidc.client, params, login, redirect_uri, wanted=oidc.subject_claim
    )
    value = claims.get(oidc.subject_claim)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise Unauthorized(
            f"the identity provider did not sign you in: it did not give your identifier "
            f"(claim {oidc.subject_claim!r})"
        )
    return value
