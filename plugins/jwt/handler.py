"""`jwt`: bearer tokens from configured OpenID Providers (FranceConnect-style federations), per RFC 6750.

In order: the `Authorization: Bearer` token is read (unverified) to pick its issuer among `issuers`
and its key (`kid`) in that issuer's JWKS (keys.py: discovered, cached, refetched on an unknown
`kid` at most once per `jwks_refetch_interval`); then joserfc checks the signature (`algorithms`
only), `iss`, `aud` (one of the issuer's `audiences`), `exp`, `nbf`, `iat` (with `leeway`); then the
scopes: all of `required_scopes`, and all the scopes of at least one of the route's `scopes` (the
snapshot derives them from the spec's security requirements). Then the caller is recorded
(`kong.client.authenticate`; with `consumer_claim`, as the named Agora application), and chosen
claims go upstream as headers (`claims_to_headers`).

Refusals are problem documents with a `WWW-Authenticate: Bearer` challenge: 401 without `error`
when no token was sent, 401 `error="invalid_token"` for a bad one, 403 `error="insufficient_scope"`
(with the `scope` needed) for a good token without the scopes; 503 when the issuer's keys cannot be
fetched at all.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from agora.errors import InvalidInput
from plugins import CTX_JWT_CLAIMS, CTX_PLAN
from plugins.jwt import keys
from plugins.jwt.schema import ALGORITHMS, Schema
from plugins.jwt.tokens import InvalidToken, read_unverified, token_scopes, verify

__all__ = [
    "ERR_ALGORITHM",
    "ERR_INSUFFICIENT_SCOPE",
    "ERR_KEYS_UNAVAILABLE",
    "ERR_NO_APPLICATION",
    "ERR_NO_TOKEN",
    "ERR_UNKNOWN_APPLICATION",
    "ERR_UNKNOWN_ISSUER",
    "ERR_UNKNOWN_KEY",
    "PRIORITY",
    "VERSION",
    "Plugin",
    "Schema",
    "priority",
    "version",
]

PRIORITY = 1450  # Kong's jwt: before key-auth (1250), access-control and rate-limiting
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

# Messages for clients (also in `error_description`: no double quote or backslash). Those about a
# token's own content are in tokens.py (ERR_EXPIRED, ERR_AUDIENCE, ERR_SIGNATURE...).
ERR_NO_TOKEN = "No bearer token found in request"
ERR_ALGORITHM = "The token signature algorithm is not accepted"
ERR_UNKNOWN_ISSUER = "The token issuer is not accepted here"
ERR_UNKNOWN_KEY = "The token is signed with an unknown key"
ERR_INSUFFICIENT_SCOPE = "The token lacks the scope(s) this operation requires"
ERR_NO_APPLICATION = "The token names no application"
ERR_UNKNOWN_APPLICATION = "The token names an application unknown to this platform"
ERR_KEYS_UNAVAILABLE = "The identity provider's keys cannot be fetched; try again later"

CONSUMER_ID, CONSUMER_USERNAME = "X-Consumer-ID", "X-Consumer-Username"
CTX_TOKEN, CTX_CLAIMS = "authenticated_jwt_token", CTX_JWT_CLAIMS  # kong.ctx.shared keys (Kong: the first)
_MAX_CACHED_CONSUMERS = 10_000


@dataclass(frozen=True, slots=True)
class Issuer:
    issuer: str
    jwks_uri: str | None
    audiences: tuple[str, ...]


def _issuers(items: list[Any]) -> dict[str, Issuer]:
    out = {}
    for item in items:
        audiences = item.get("audiences") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("issuer"), str) or not item["issuer"]:
            raise InvalidInput("jwt: each of issuers needs an `issuer` string")
        if not isinstance(audiences, list) or not audiences or not all(isinstance(a, str) for a in audiences):
            raise InvalidInput(f"jwt: issuer {item['issuer']!r} needs a non-empty `audiences` list")
        uri = item.get("jwks_uri")
        if uri is not None and not (isinstance(uri, str) and uri.startswith(("http://", "https://"))):
            raise InvalidInput(f"jwt: jwks_uri of {item['issuer']!r} must be an http(s) URL")
        out[item["issuer"]] = Issuer(item["issuer"], uri, tuple(audiences))
    if not out:
        raise InvalidInput("jwt: issuers must name at least one issuer")
    return out


def _header_value(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else str(value)


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.issuers = _issuers(config["issuers"])
        self.algorithms: tuple[str, ...] = tuple(config["algorithms"])
        if not self.algorithms or not set(self.algorithms) <= set(ALGORITHMS):
            raise InvalidInput(f"jwt: algorithms must be among {', '.join(ALGORITHMS)}")
        self.leeway: int = config["leeway"]
        self.scopes_claim: str = config["scopes_claim"]
        self.required_scopes = frozenset(str(s) for s in config["required_scopes"])
        self.claims_to_headers: dict[str, str] = {
            str(k): str(v) for k, v in config["claims_to_headers"].items()
        }
        self.consumer_claim: str | None = config["consumer_claim"] or None
        self.ttl: int = config["jwks_cache_ttl"]
        self.refetch_interval: int = config["jwks_refetch_interval"]
        self.realm: str = config["realm"].replace('"', "")
        self.run_on_preflight: bool = config["run_on_preflight"]
        self.cache = keys.CACHE  # shared by every instance of the worker: reloads keep the keys
        self._consumers: dict[str, dict[str, Any]] = {}  # this instance lives for one snapshot

    async def access(self, kong: Any) -> None:
        if not self.run_on_preflight and kong.request.get_method() == "OPTIONS":
            return
        scheme, _, token = (kong.request.get_header("authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            self._refuse(kong, 401, ERR_NO_TOKEN, None)
            return
        try:
            claims = await self._verified(token)
        except InvalidToken as exc:
            self._refuse(kong, 401, exc.message, "invalid_token")
            return
        except keys.KeysUnavailable as exc:
            kong.log.err("jwt: ", str(exc))
            kong.response.error(503, ERR_KEYS_UNAVAILABLE, {"Retry-After": str(self.refetch_interval)})
            return
        missing = self._missing_scopes(kong, claims)
        if missing is not None:
            self._refuse(kong, 403, ERR_INSUFFICIENT_SCOPE, "insufficient_scope", missing)
            return
        self._authenticate(kong, token, claims)

    async def _verified(self, token: str) -> dict[str, Any]:
        header, unverified = read_unverified(token)
        alg = header["alg"]
        if alg not in self.algorithms:
            raise InvalidToken(ERR_ALGORITHM)
        issuer = self.issuers.get(unverified.get("iss"))  # type: ignore[arg-type]
        if issuer is None:
            raise InvalidToken(ERR_UNKNOWN_ISSUER)
        uri = issuer.jwks_uri or await self.cache.jwks_uri(issuer.issuer, self.ttl)
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        key = await self.cache.key(uri, kid, alg, ttl=self.ttl, min_interval=self.refetch_interval)
        if key is None:
            raise InvalidToken(ERR_UNKNOWN_KEY)
        return verify(
            token,
            key,
            algorithms=(alg,),
            issuer=issuer.issuer,
            audiences=issuer.audiences,
            leeway=self.leeway,
        )

    def _missing_scopes(self, kong: Any, claims: dict[str, Any]) -> list[str] | None:
        """None when the token's scopes suffice, else the scopes to ask for."""
        held = token_scopes(claims, self.scopes_claim)
        alternatives = [frozenset(a) for a in (kong.router.get_route() or {}).get("scopes") or ()]
        if self.required_scopes <= held and (not alternatives or any(a <= held for a in alternatives)):
            return None
        wanted = self.required_scopes | next((a for a in alternatives if not a <= held), frozenset())
        return sorted(wanted)

    def _authenticate(self, kong: Any, token: str, claims: dict[str, Any]) -> None:
        consumer = None
        if self.consumer_claim is not None:
            name = claims.get(self.consumer_claim)
            if not isinstance(name, str) or not name:
                self._refuse(kong, 401, ERR_NO_APPLICATION, "invalid_token")
                return
            consumer = self._consumers.get(name) or kong.agora.find_consumer(name)
            if consumer is None:
                self._refuse(kong, 401, ERR_UNKNOWN_APPLICATION, "invalid_token")
                return
            if len(self._consumers) < _MAX_CACHED_CONSUMERS:
                self._consumers[name] = consumer
        # A stable id of (issuer, subject) that fits where metering keeps credential ids (36 characters).
        subject = f"{claims['iss']}#{claims.get('sub') or claims.get('client_id') or ''}"
        credential = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, subject)), "type": "jwt", "subject": subject}
        kong.client.authenticate(consumer, credential)
        kong.ctx.shared[CTX_TOKEN], kong.ctx.shared[CTX_CLAIMS] = token, claims
        upstream = kong.service.request
        if consumer is not None:
            upstream.set_header(CONSUMER_ID, consumer.get("id", ""))
            upstream.set_header(CONSUMER_USERNAME, consumer.get("username", ""))
            if consumer.get("plan"):
                kong.ctx.shared[CTX_PLAN] = consumer["plan"]
        for claim, header in self.claims_to_headers.items():
            value = claims.get(claim)
            if value is None:
                upstream.clear_header(header)  # never pass on a client's own copy
            else:
                upstream.set_header(header, _header_value(value))

    def _refuse(
        self, kong: Any, status: int, message: str, error: str | None, scopes: list[str] | None = None
    ) -> None:
        challenge = f'Bearer realm="{self.realm}"'
        if error is not None:
            challenge += f', error="{error}", error_description="{message}"'
        if scopes:
            # RFC 6749 scope tokens exclude '"' and '\'; a spec could still write them: not in a header.
            challenge += ', scope="{}"'.format(" ".join(s for s in scopes if '"' not in s and "\\" not in s))
        kong.response.error(status, message, {"WWW-Authenticate": challenge})
