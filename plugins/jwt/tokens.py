"""Reading and checking one compact JWS token with joserfc; every refusal is an `InvalidToken` whose
message is one of the named constants below (they reach clients in `error_description`, so they
contain no double quote or backslash and say nothing of the keys)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError

__all__ = [
    "ERR_AUDIENCE",
    "ERR_EXPIRED",
    "ERR_ISSUED_IN_FUTURE",
    "ERR_ISSUER",
    "ERR_MALFORMED",
    "ERR_MISSING_CLAIM",
    "ERR_NOT_YET_VALID",
    "ERR_SIGNATURE",
    "InvalidToken",
    "read_unverified",
    "token_scopes",
    "verify",
]

MAX_TOKEN_BYTES = 16 * 1024

ERR_MALFORMED = "The token is not a signed JWT"
ERR_SIGNATURE = "The token signature is invalid"
ERR_EXPIRED = "The token has expired"
ERR_NOT_YET_VALID = "The token is not valid yet"
ERR_ISSUED_IN_FUTURE = "The token was issued in the future"
ERR_AUDIENCE = "The token is not meant for this API (aud)"
ERR_ISSUER = "The token issuer does not match"
ERR_MISSING_CLAIM = "The token lacks the claim(s) {}"
_CLAIM_ERRORS = {
    "aud": ERR_AUDIENCE,
    "nbf": ERR_NOT_YET_VALID,
    "iat": ERR_ISSUED_IN_FUTURE,
    "iss": ERR_ISSUER,
}


class InvalidToken(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) before any check: only to pick the issuer and key; nothing is trusted yet."""
    try:
        if len(token) > MAX_TOKEN_BYTES:
            raise ValueError("too long")
        compact = jws.extract_compact(token.encode("ascii"))
        header, claims = compact.headers(), json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidToken(ERR_MALFORMED) from exc
    if not isinstance(claims, dict) or not isinstance(header.get("alg"), str):
        raise InvalidToken(ERR_MALFORMED)
    return dict(header), claims


def verify(
    token: str, key: Any, *, algorithms: Collection[str], issuer: str, audiences: Collection[str], leeway: int
) -> dict[str, Any]:
    """The claims of a token whose signature, `iss`, `aud`, `exp`, `nbf` and `iat` hold."""
    try:
        decoded = jwt.decode(token, key, algorithms=list(algorithms))
    except JoseError as exc:
        raise InvalidToken(ERR_SIGNATURE) from exc
    claims = jwt.JWTClaimsRegistry(
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "values": list(audiences)},
        exp={"essential": True},
    )
    try:
        claims.validate(decoded.claims)
    except ExpiredTokenError as exc:
        raise InvalidToken(ERR_EXPIRED) from exc
    except MissingClaimError as exc:
        raise InvalidToken(ERR_MISSING_CLAIM.format(exc.claim)) from exc
    except InvalidClaimError as exc:
        raise InvalidToken(_CLAIM_ERRORS.get(exc.claim, ERR_MALFORMED)) from exc
    return dict(decoded.claims)


def token_scopes(claims: dict[str, Any], claim: str) -> frozenset[str]:
    """Scopes from `scope` (RFC 9068: space-separated) or `scp` (a list); either form in either claim."""
    value = claims.get(claim)
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(s for s in value if isinstance(s, str))
    return frozenset()
