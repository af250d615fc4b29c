"""Token checks on tokens signed here with joserfc: each claim rule, and scopes in both forms."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from plugins.jwt.tokens import (
    ERR_AUDIENCE,
    ERR_EXPIRED,
    ERR_ISSUED_IN_FUTURE,
    ERR_ISSUER,
    ERR_MALFORMED,
    ERR_MISSING_CLAIM,
    ERR_NOT_YET_VALID,
    ERR_SIGNATURE,
    InvalidToken,
    read_unverified,
    token_scopes,
    verify,
)

ISS, AUD = "https://id.example", "https://api.example"
RSA = RSAKey.generate_key(2048, parameters={"kid": "r"}, auto_kid=False)
EC = ECKey.generate_key("P-256", parameters={"kid": "e"}, auto_kid=False)


def token(key: Any = RSA, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISS, "aud": AUD, "exp": now + 60, "iat": now, "sub": "s", **claims}
    return jwt.encode({"alg": alg, "kid": key.kid}, {k: v for k, v in body.items() if v is not None}, key)


def check(value: str, key: Any = RSA, alg: str = "RS256", leeway: int = 0) -> dict[str, Any]:
    return verify(value, key, algorithms=(alg,), issuer=ISS, audiences=(AUD, "other"), leeway=leeway)


def test_valid_tokens_rs256_and_es256() -> None:
    assert check(token())["sub"] == "s"
    assert check(token(EC, "ES256"), EC, "ES256")["iss"] == ISS
    assert check(token(aud=["x", "other"]))["aud"] == ["x", "other"]  # one accepted audience suffices
    header, claims = read_unverified(token())
    assert header["alg"] == "RS256" and header["kid"] == "r" and claims["iss"] == ISS


# Times are offsets from the moment the test runs: values computed at collection time go stale in a long
# suite (an nbf 60 s ahead is in the past ten minutes later).
@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": -1}, ERR_EXPIRED),
        ({"nbf": 60}, ERR_NOT_YET_VALID),
        ({"iat": 60}, ERR_ISSUED_IN_FUTURE),
        ({"aud": "https://elsewhere"}, ERR_AUDIENCE),
        ({"iss": "https://id.example/"}, ERR_ISSUER),
        ({"exp": None}, ERR_MISSING_CLAIM.format("exp")),
        ({"aud": None}, ERR_MISSING_CLAIM.format("aud")),
    ],
)
def test_claim_rules(claims: dict[str, Any], message: str) -> None:
    now = int(time.time())
    timed = {
        k: now + v if k in ("exp", "nbf", "iat") and isinstance(v, int) else v for k, v in claims.items()
    }
    with pytest.raises(InvalidToken) as refused:
        check(token(**timed))
    assert refused.value.message == message


def test_leeway_tolerates_small_clock_skew() -> None:
    late = token(exp=int(time.time()) - 5)
    with pytest.raises(InvalidToken):
        check(late)
    assert check(late, leeway=30)["sub"] == "s"


def test_signature_key_and_shape() -> None:
    other = RSAKey.generate_key(2048)
    for bad in (lambda: check(token(), other), lambda: check(token(EC, "ES256"), RSA, "ES256")):
        with pytest.raises(InvalidToken) as refused:
            bad()
        assert refused.value.message == ERR_SIGNATURE
    for garbage in ("", "a.b", "a.b.c", "é.é.é", "x" * 20000):
        with pytest.raises(InvalidToken) as refused:
            read_unverified(garbage)
        assert refused.value.message == ERR_MALFORMED


def test_scopes_in_either_claim_and_form() -> None:
    assert token_scopes({"scope": "a b  c"}, "scope") == {"a", "b", "c"}
    assert token_scopes({"scp": ["a", "b", 3]}, "scp") == {"a", "b"}
    assert token_scopes({"scope": ["a"]}, "scope") == {"a"}
    assert token_scopes({"scp": "a"}, "scope") == frozenset()
