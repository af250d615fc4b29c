"""The citizen's page in Chromium: a person signs in through a real OpenID Provider (the federation's
stand-in, oidc/citizen_provider.mjs), sees who accessed their data (their own accesses only, a refused
call shown as refused), filters by organisation, downloads the CSV, and signs out. axe-core finds no
serious or critical violation, signed out or in, and the page reflows at 320 px."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from agora.pseudonyms import KEYS_ENV
from tests.devportal.browser.conftest import requires_chromium
from tests.devportal.browser.journey import serious_violations
from tests.devportal.browser.stack import Stack, artifacts_dir, free_port, start_stack
from tests.devportal.citizen_oidc import citizen_env, citizen_provider
from tests.registry.access_rows import ALICE, BOB, RING_VALUE, access

pytestmark = [pytest.mark.integration, requires_chromium]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Stack]]:
    root = tmp_path_factory.mktemp("citizen")
    portal_port = free_port()
    with citizen_provider(f"http://127.0.0.1:{portal_port}/my-data/callback") as issuer:
        env = {**citizen_env(issuer), KEYS_ENV: RING_VALUE}
        started = start_stack(root, gateway=False, extra_env=env, portal_port=portal_port)
        try:
            _record_accesses(started)
            yield issuer, started
        finally:
            started.stop()


def _record_accesses(stack: Stack) -> None:
    """As the gateway would have: two calls for Alice (one refused), one for Bob, on a seeded API."""
    engine = create_engine(stack.env["AGORA_DATABASE_URL"])
    with Session(engine) as session, session.begin():
        common: dict[str, Any] = {"agency": "meteo", "api": "warnings", "operation_id": None}
        march = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
        access(session, ALICE, request_id="alice-served", at=march, **common)
        fund = {"organisation": "Family allowance fund", "application_name": "Allowance checker"}
        access(
            session, ALICE, request_id="alice-refused", status=403, at=march.replace(day=12), **fund, **common
        )
        access(session, BOB, request_id="bob-served", organisation="Bob's employer", **common)
    engine.dispose()


def _sign_in(page: Any, stack: Stack, issuer: str, login: str, shots: Path | None = None) -> None:
    page.goto(stack.portal_url + "/my-data/")
    page.click("text=Sign in with your identity provider")
    page.wait_for_url(f"{issuer}/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "anything")
    if shots:
        page.screenshot(path=str(shots / "02-provider-login.png"))
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]")  # the consent page
    page.click("button[type=submit]")
    page.wait_for_url(stack.portal_url + "/my-data/")


def _references(page: Any) -> list[str]:
    return [
        str(ref).removeprefix("Reference ") for ref in page.locator("#accesses td .hint").all_inner_texts()
    ]


def test_a_citizen_sees_filters_downloads_and_signs_out(browser: Any, stack: tuple[str, Stack]) -> None:
    issuer, portal = stack
    shots = artifacts_dir("citizen")
    found: dict[str, list[str]] = {}
    context = browser.new_context(bypass_csp=True, accept_downloads=True)  # axe is an injected script
    page = context.new_page()
    page.goto(portal.portal_url + "/")
    page.click("footer >> text=Who accessed my data")
    page.wait_for_url(portal.portal_url + "/my-data/")
    assert page.locator("header").count() == 1 and page.locator("footer").count() == 1
    found["signed out"] = serious_violations(page)
    page.screenshot(path=str(shots / "01-signed-out.png"), full_page=True)

    _sign_in(page, portal, issuer, "alice", shots)
    assert page.locator("h1").inner_text() == "Who accessed my data"
    assert _references(page) == ["alice-refused", "alice-served"]
    refused = page.locator("tr[data-outcome=refused]")
    assert "Refused: nothing was read" in refused.inner_text()
    assert "Allowance checker" in refused.inner_text() and "Family allowance fund" in refused.inner_text()
    assert "Checking eligibility for the housing aid" in page.inner_text("#accesses")
    assert "bob" not in page.inner_text("main").lower()
    found["signed in"] = serious_violations(page)
    page.screenshot(path=str(shots / "03-signed-in.png"), full_page=True)

    page.select_option("#organisation", "Family allowance fund")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/my-data/?**")
    assert _references(page) == ["alice-refused"]
    found["filtered"] = serious_violations(page)
    with page.expect_download() as download:
        page.click("text=CSV (spreadsheet)")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [(r["reference"], r["outcome"]) for r in rows] == [("alice-refused", "refused")]

    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(portal.portal_url + "/my-data/")
    page.screenshot(path=str(shots / "04-narrow.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})

    page.click("text=Sign out of this page")
    page.wait_for_selector("text=You are signed out of this page")
    assert page.locator("#accesses").count() == 0
    page.screenshot(path=str(shots / "05-signed-out-again.png"), full_page=True)
    context.close()

    other = browser.new_context()
    bob = other.new_page()
    _sign_in(bob, portal, issuer, "bob")
    assert _references(bob) == ["bob-served"]
    other.close()
    assert found == {"signed out": [], "signed in": [], "filtered": []}
