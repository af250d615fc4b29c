"""jwt end to end: tokens from a real OpenID Provider (oidc-provider, client credentials), through a real
gateway whose snapshot the registry compiled from a spec enabling the plugin in `x-agora-plugins`, to
the real companies upstream (and the harness's echo upstream, which shows the headers it received)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from tests.gateway.integration.gateway_harness import GatewayProcess, StartGateway
from tests.plugins.jwt.conftest import AUDIENCE, OTHER_AUDIENCE, client_token
from tests.plugins.request_validator.companies_stack import companies_spec, compile_registry, serve_companies

pytestmark = pytest.mark.integration

COMPANIES = "/commerce/companies/v1"
MIRROR = "/commerce/mirror/v1"  # the same spec, served by the echo upstream


def _spec(issuer: str) -> dict[str, Any]:
    """The companies spec behind OpenID Connect, as an agency would publish it."""
    spec = companies_spec()
    spec["components"]["securitySchemes"]["oidc"] = {
        "type": "openIdConnect",
        "openIdConnectUrl": issuer + "/.well-known/openid-configuration",
    }
    spec["security"] = [{"oidc": ["filings:read"]}]
    jwt_entry = {
        "name": "jwt",
        "config": {
            "issuers": [{"issuer": issuer, "audiences": [AUDIENCE]}],  # jwks_uri found by discovery
            "leeway": 0,
            "claims_to_headers": {"client_id": "X-Client-Id"},
        },
    }
    spec["x-agora-plugins"] = [jwt_entry]
    filings = spec["paths"]["/companies/{company_id}/filings"]
    filings["post"]["security"] = [{"oidc": ["filings:write"]}]
    # Listing filings names the calling application: the token's client_id must be a registered one.
    with_consumer = {"name": "jwt", "config": {**jwt_entry["config"], "consumer_claim": "client_id"}}
    filings["get"]["x-agora-plugins"] = [with_consumer]
    return spec


@pytest.fixture(scope="module")
def gateway(
    start_gateway: StartGateway,
    upstream: str,
    oidc_issuer: str,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    spec = _spec(oidc_issuer)
    with serve_companies() as companies:
        document = compile_registry(
            sqlite_template,
            tmp_path_factory.mktemp("registry"),
            {"companies": (spec, companies), "mirror": (spec, upstream + "/echo")},
            apps=("agora-rs",),
        )
        service = next(s for s in document["services"] if s["prefix"] == COMPANIES)
        create = next(r for r in service["routes"] if r["operation_id"] == "createFiling")
        assert [p["name"] for p in service["plugins"]] == ["jwt"]  # from the spec's x-agora-plugins
        assert create["scopes"] == [["filings:write"]]  # from the operation's security requirement
        # The provider's discovery names a JWKS on loopback: the gateway fetches it only because the
        # operator allows that host, as `make run` does for its own (plugins/jwt/keys.py).
        yield start_gateway(document, env={"AGORA_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1"})


def call(
    gateway: GatewayProcess, method: str, path: str, token: str | None = None, **kw: Any
) -> httpx.Response:
    headers = kw.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, gateway.url + path, headers=headers, timeout=10, **kw)


def refused(response: httpx.Response, status: int, error: str | None, detail: str) -> str:
    """Checks a refusal: problem document and RFC 6750 challenge. Returns the challenge."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == detail
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="agora"')
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}", error_description="{detail}"' in challenge
    return challenge


def test_client_credentials_token_reaches_the_upstream(gateway: GatewayProcess, oidc_issuer: str) -> None:
    for client in ("agora-rs", "agora-es"):  # RS256 and ES256 signatures
        token = client_token(oidc_issuer, client)
        found = call(gateway, "GET", COMPANIES + "/companies?name=northport", token)
        assert found.status_code == 200 and found.json()["total"] == 2
        filing = {"type": "annual-accounts", "submitted_by": "Aino Virtanen"}
        created = call(gateway, "POST", COMPANIES + "/companies/RC100001/filings", token, json=filing)
        assert created.status_code == 201, created.text


def test_claims_go_upstream_and_a_forged_copy_does_not(gateway: GatewayProcess, oidc_issuer: str) -> None:
    token = client_token(oidc_issuer, "agora-rs")
    echoed = call(gateway, "GET", MIRROR + "/companies", token, headers={"X-Client-Id": "forged"})
    assert echoed.status_code == 200
    sent = [(k.lower(), v) for k, v in echoed.json()["headers"]]
    assert ("x-client-id", "agora-rs") in sent and ("x-client-id", "forged") not in sent


def test_consumer_claim_names_a_registered_application(gateway: GatewayProcess, oidc_issuer: str) -> None:
    path = MIRROR + "/companies/RC100001/filings"
    known = call(gateway, "GET", path, client_token(oidc_issuer, "agora-rs"))
    assert known.status_code == 200
    assert ["X-Consumer-Username", "agora-rs"] in known.json()["headers"]
    unknown = call(gateway, "GET", path, client_token(oidc_issuer, "agora-es"))  # no such application
    refused(unknown, 401, "invalid_token", "The token names an application unknown to this platform")


def test_no_token_is_401_without_error_code(gateway: GatewayProcess) -> None:
    refused(call(gateway, "GET", COMPANIES + "/companies"), 401, None, "No bearer token found in request")
    basic = call(gateway, "GET", COMPANIES + "/companies", headers={"Authorization": "Basic YTpi"})
    refused(basic, 401, None, "No bearer token found in request")


def test_expired_token_from_the_provider(gateway: GatewayProcess, oidc_issuer: str) -> None:
    # agora-short's tokens live 1 s at the provider; wait (at most ~2 s) until its `exp` has passed.
    token = client_token(oidc_issuer, "agora-short")
    expires = _claims(token)["exp"]
    time.sleep(max(0.0, expires + 0.1 - time.time()))
    response = call(gateway, "GET", COMPANIES + "/companies", token)
    refused(response, 401, "invalid_token", "The token has expired")


def test_wrong_audience(gateway: GatewayProcess, oidc_issuer: str) -> None:
    token = client_token(oidc_issuer, "agora-rs", resource=OTHER_AUDIENCE)
    assert _claims(token)["aud"] == OTHER_AUDIENCE
    response = call(gateway, "GET", COMPANIES + "/companies", token)
    refused(response, 401, "invalid_token", "The token is not meant for this API (aud)")


def test_wrong_signature(gateway: GatewayProcess, oidc_issuer: str) -> None:
    genuine = client_token(oidc_issuer, "agora-rs", scope="filings:read")
    header, _payload, signature = genuine.split(".")
    # 1. The provider's signature over a payload granting itself one more scope.
    claims = {**_claims(genuine), "scope": "filings:read filings:write"}
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    # 2. The same claims signed by another key that claims the provider's key id.
    forged = jwt.encode(
        {"alg": "RS256", "kid": "rs-1"}, _claims(genuine), RSAKey.generate_key(2048, auto_kid=False)
    )
    for token in (tampered, forged):
        response = call(gateway, "GET", COMPANIES + "/companies", token)
        refused(response, 401, "invalid_token", "The token signature is invalid")


def test_unknown_issuer_key_and_algorithm(gateway: GatewayProcess, oidc_issuer: str) -> None:
    own = RSAKey.generate_key(2048, auto_kid=False)
    claims = {"iss": oidc_issuer, "aud": AUDIENCE, "exp": int(time.time()) + 60, "scope": "filings:read"}
    elsewhere = jwt.encode({"alg": "RS256", "kid": "rs-1"}, {**claims, "iss": "http://127.0.0.1:9/"}, own)
    refused(call(gateway, "GET", COMPANIES + "/companies", elsewhere), 401, "invalid_token",
            "The token issuer is not accepted here")  # fmt: skip
    rogue_kid = jwt.encode({"alg": "RS256", "kid": "rogue"}, claims, own)
    refused(call(gateway, "GET", COMPANIES + "/companies", rogue_kid), 401, "invalid_token",
            "The token is signed with an unknown key")  # fmt: skip
    unsigned = _b64(b'{"alg":"none"}') + "." + _b64(json.dumps(claims).encode()) + "."
    hs256 = jwt.encode({"alg": "HS256"}, claims, OctKey.generate_key(256))
    for token in (unsigned, hs256):
        refused(call(gateway, "GET", COMPANIES + "/companies", token), 401, "invalid_token",
                "The token signature algorithm is not accepted")  # fmt: skip
    refused(call(gateway, "GET", COMPANIES + "/companies", "not-a-jwt"), 401, "invalid_token",
            "The token is not a signed JWT")  # fmt: skip


def test_missing_scope_is_403_naming_the_scope(gateway: GatewayProcess, oidc_issuer: str) -> None:
    reader = client_token(oidc_issuer, "agora-rs", scope="filings:read")
    assert call(gateway, "GET", COMPANIES + "/companies", reader).status_code == 200
    filing = {"type": "annual-accounts", "submitted_by": "Aino Virtanen"}
    response = call(gateway, "POST", COMPANIES + "/companies/RC100001/filings", reader, json=filing)
    challenge = refused(
        response, 403, "insufficient_scope", "The token lacks the scope(s) this operation requires"
    )
    assert challenge.endswith('scope="filings:write"')


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims
