"""Signing in to the portal through a real OpenID Provider (npm oidc-provider, the same package as the
jwt plugin's tests), in Chromium: authorization code with PKCE, the provider's login and consent pages,
then an account linked to the provider's subject with its verified email."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from registry.models import ExternalIdentity
from tests.devportal.browser.conftest import requires_chromium
from tests.devportal.browser.stack import REPO, Stack, artifacts_dir, free_port, start_stack, wait_for

pytestmark = [pytest.mark.integration, requires_chromium]

PROVIDER_SCRIPT = Path(__file__).resolve().parents[1] / "oidc" / "portal_provider.mjs"
PROVIDER_PACKAGE = REPO / "tests" / "oidc_provider"


@pytest.fixture
def provider_and_portal(tmp_path: Path) -> Iterator[tuple[str, Stack]]:
    if not (PROVIDER_PACKAGE / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER_PACKAGE, check=True, timeout=300,
        )  # fmt: skip
    provider_port, portal_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    callback = f"http://127.0.0.1:{portal_port}/account/oidc/callback"
    provider = subprocess.Popen(
        ["node", str(PROVIDER_SCRIPT), str(provider_port), callback],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(issuer + "/.well-known/openid-configuration", provider)
        env = {
            "AGORA_OIDC_ISSUER": issuer,
            "AGORA_OIDC_CLIENT_ID": "agora-portal",
            "AGORA_OIDC_CLIENT_SECRET": "agora-portal-test-secret",
        }
        stack = start_stack(tmp_path, gateway=False, extra_env=env, portal_port=portal_port)
        try:
            yield issuer, stack
        finally:
            stack.stop()
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def test_sign_in_through_the_openid_provider(browser: Any, provider_and_portal: tuple[str, Stack]) -> None:
    issuer, stack = provider_and_portal
    shots = artifacts_dir("oidc")
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack.portal_url + "/account/signin")
    page.click("text=Sign in with your organisation's identity provider")
    page.wait_for_url(f"{issuer}/**")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "anything")
    page.screenshot(path=str(shots / "01-provider-login.png"))
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]")
    page.screenshot(path=str(shots / "02-provider-consent.png"))
    page.click("button[type=submit]")
    page.wait_for_url(stack.portal_url + "/account/")
    page.screenshot(path=str(shots / "03-signed-in.png"))
    assert "Signed in through your identity provider" in page.content()
    assert "alice@oidc.example" in page.content()
    engine = create_engine(stack.env["AGORA_DATABASE_URL"])
    with Session(engine) as session:
        identity = session.scalar(select(ExternalIdentity).where(ExternalIdentity.subject == "alice"))
        assert identity is not None and identity.issuer == issuer
        assert identity.developer.email == "alice@oidc.example"
    engine.dispose()
    context.close()
