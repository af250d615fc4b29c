"""A real OpenID Provider (tests/oidc_provider: the npm package oidc-provider) on a free loopback port,
for the session; `npm ci` installs it first if its node_modules is missing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.integration.gateway_harness import free_port, stop, wait_for

PROVIDER = Path(__file__).resolve().parents[2] / "oidc_provider"
SECRET = "agora-test-secret"  # the provider's test clients' secret (provider.mjs)
AUDIENCE = "https://api.agora.test/companies"  # the resource the provider issues tokens for by default
OTHER_AUDIENCE = "https://other.agora.test/"


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER, check=True, timeout=300,
        )  # fmt: skip
    port = free_port()
    process = subprocess.Popen(["node", str(PROVIDER / "provider.mjs"), str(port)], stdout=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for(issuer + "/.well-known/openid-configuration", process)
        yield issuer
    finally:
        stop(process)


def client_token(issuer: str, client: str, scope: str = "filings:read filings:write", **extra: str) -> str:
    """An access token from the provider's token endpoint (client credentials grant)."""
    response = httpx.post(
        issuer + "/token",
        auth=(client, SECRET),
        data={"grant_type": "client_credentials", "scope": scope, **extra},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
