"""The developer's journey on a fresh platform, in Chromium, against the real processes (example
upstreams, the gateway with its key-auth, access-control and usage-metering plugins, the portal).

A new developer signs up, verifies the email, creates an application, gets a key whose first call
works, pastes samples from an API page (the curl one answers 200 with the demo key), sees the calls in
the usage chart, visits every other page kind, gets the access form wrong and finds it kept, subscribes
to a key API under a plan the agency approves and sees that plan in `RateLimit-Limit`, gets a restricted
API approved, and revokes a key after confirming. Every page kind has one header and one footer and no
serious or critical axe-core issue; screenshots of each step are kept under tmp/artifacts/portal/journey/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.devportal.browser.conftest import requires_chromium
from tests.devportal.browser.journey import SAMPLE_TAB_JS, Journey
from tests.devportal.browser.stack import Stack, artifacts_dir, start_stack

pytestmark = [pytest.mark.integration, requires_chromium]


def _credentials(stack: Stack) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((stack.root / "credentials.json").read_text())
    return loaded


@pytest.fixture
def whole_stack(tmp_path: Path) -> Iterator[Stack]:
    stack = start_stack(tmp_path, gateway=True)
    yield stack
    stack.stop()


def _poll(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def _run_curl(sample: str, key: str) -> tuple[str, str]:
    """(body, status) of a curl sample pasted in a shell with the key filled in."""
    pasted = sample.replace("YOUR_API_KEY", key).rstrip()
    done = subprocess.run(
        ["bash", "-c", pasted + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    body, _, status = done.stdout.rstrip().rpartition("\n")
    return body, status


def _limit(url: str, key: str) -> str:
    answer = httpx.get(url, headers={"apikey": key}, timeout=10)
    return answer.headers.get("ratelimit-limit", f"status {answer.status_code}")


def test_journey_through_the_gateway(browser: Any, whole_stack: Stack) -> None:
    stack = whole_stack
    creds = _credentials(stack)
    # bypass_csp: axe-core is injected as an inline script on every page kind; the CSP itself is
    # exercised by test_accessibility's console, search and filters test.
    context = browser.new_context(bypass_csp=True)
    journey = Journey(stack, context.new_page(), artifacts_dir("journey"))
    page = journey.page
    journey.sign_up_and_verify("first.call@example.org")
    # The built pages' header shows a developer's navigation once signed in, never the agency console.
    page.goto(journey.url("/commerce/"))
    page.wait_for_selector(".service-nav a:has-text('Applications')", state="visible")
    assert not page.locator(".service-nav a:has-text('Agency console')").is_visible()
    assert page.locator("text=Signed in as").is_visible()
    page.goto(journey.url("/account/apps"))
    key = journey.create_app_and_key("first-call")
    # The first call shown with the key is a data call of an API the application can use, and works.
    first_call = str(page.inner_text("#first-call"))
    assert "/commerce/companies/v1/companies" in first_call and "/health" not in first_call
    body, status = _run_curl(first_call, key)
    assert status == "200" and '"items"' in body, body
    page.click("text=Back to first-call")
    app_url = page.url

    # A sample pasted from an API page answers 200 with the demo key: the path parameter is the
    # spec's example (RC100001), not `string`.
    sample = journey.copy_curl_sample("/commerce/companies/1.0.0/", "op-getcompany")
    journey.page_kind("api-reference")
    assert "/companies/RC100001" in sample
    body, status = _run_curl(sample, creds["demo_api_key"])
    assert status == "200" and "RC100001" in body, body
    sample = journey.copy_curl_sample("/commerce/companies/1.0.0/", "op-searchcompanies")
    body, status = _run_curl(sample, key)
    assert status == "200", body
    # The Python and JavaScript samples of the same operation work as pasted too, and so does the
    # console's way through the portal's relay.
    python_sample = page.evaluate(SAMPLE_TAB_JS, ["op-searchcompanies", 1]).replace("YOUR_API_KEY", key)
    ran = subprocess.run(
        [sys.executable, "-c", python_sample], capture_output=True, text=True, timeout=30, check=False
    )
    assert ran.returncode == 0 and '"items"' in ran.stdout, ran.stderr
    js_sample = page.evaluate(SAMPLE_TAB_JS, ["op-searchcompanies", 2]).replace("YOUR_API_KEY", key)
    ran = subprocess.run(
        ["node", "--input-type=module", "-e", js_sample],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ran.returncode == 0 and '"items"' in ran.stdout, ran.stderr
    relayed = httpx.get(  # as the console calls it (devportal/build/static/console.js)
        f"{stack.portal_url}/gateway/commerce/companies/v1/companies",
        headers={"apikey": key, "x-agora-console": "1"},
    )
    assert relayed.status_code == 200
    # Metering writes in batches: the calls show within a few flushes.
    rows = _poll(lambda: [r for r in journey.usage_chart() if r["api"] == "companies" and r["calls"] >= 4])
    assert rows, "the calls never showed in the usage chart"

    # Every other page kind, each with one header and footer and no serious axe issue.
    for path, kind in (
        ("/commerce/", "agency"),
        ("/commerce/companies/", "api-overview"),
        ("/commerce/companies/1.0.0/console.html", "console"),
        ("/getting-started/", "getting-started"),
        ("/transparency/", "transparency"),
        ("/accessibility/", "accessibility-statement"),
        ("/legal/", "legal-notice"),
        ("/no-such-page", "error"),
    ):
        page.goto(journey.url(path))
        if kind == "console":
            page.wait_for_selector(".opblock-summary", timeout=30_000)
        journey.page_kind(kind)

    # The access request form keeps what was typed after an error, and says what to fix.
    page.goto(journey.url("/account/access?api=commerce/companies"))
    page.select_option("#plan", "standard")
    page.fill("#justification", "short")
    page.click("#access-form button[type=submit]")
    page.wait_for_selector(".error-summary")
    journey.page_kind("access-form-error")
    assert page.locator(".error-summary a[href='#justification']").count() == 1
    assert page.input_value("#plan") == "standard" and page.input_value("#justification") == "short"
    assert page.input_value("input[name=api]") == "commerce/companies"
    assert page.locator("#application option:checked").inner_text() == "first-call"
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    # Keyboard only: Tab reaches the summary's link, Enter puts the focus in the field to fix.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "justification"

    # The subscription's plan is what the gateway applies: Free (5/s) while the agency decides,
    # Standard (50/s) once the commerce admin approves.
    companies = f"{stack.gateway_url}/commerce/companies/v1/companies"
    assert _limit(companies, key) == "5"
    journey.request_access("commerce/companies", "standard", "Supplier checks for our procurement team.")
    journey.agency_admin_approves(
        browser,
        creds["commerce_admin_portal_email"],
        creds["commerce_admin_portal_password"],
        "Supplier checks for our procurement team.",
    )
    assert _poll(lambda: _limit(companies, key) == "50"), _limit(companies, key)
    page.goto(app_url)
    row = page.locator("tr", has_text="Company register")
    assert "Standard" in row.inner_text() and "50 per second" in row.inner_text()

    # A restricted API: refused, requested, approved by the meteo admin, then answered.
    warnings = f"{stack.gateway_url}/meteo/warnings/v1/regions"
    assert httpx.get(warnings, headers={"apikey": key}).status_code == 403
    journey.request_access("meteo/warnings", "meteo-partners")
    journey.agency_admin_approves(
        browser, creds["meteo_admin_portal_email"], creds["meteo_admin_portal_password"]
    )
    # The gateway picks up the new snapshot (the approved grant) within its polling interval.
    assert _poll(lambda: httpx.get(warnings, headers={"apikey": key}).status_code == 200)
    journey.sees_state("approved")
    assert "approved" in sorted(stack.outbox.glob("*.eml"))[-1].read_text()

    # Revoking a key asks first; once confirmed, the gateway refuses the key.
    page.goto(app_url)
    page.click("a:has-text('Revoke')")
    page.wait_for_selector("h1:has-text('Revoke key')")
    journey.page_kind("confirm-revoke")
    assert httpx.get(companies, headers={"apikey": key}).status_code == 200  # nothing revoked yet
    page.click("button:has-text('Yes, revoke')")
    page.wait_for_selector(".notice:has-text('Key revoked')")
    assert _poll(lambda: httpx.get(companies, headers={"apikey": key}).status_code == 401)
    context.close()

    failing = {kind: found for kind, found in journey.kinds.items() if found}
    assert failing == {}, json.dumps(failing, indent=1)
    assert len(journey.kinds) >= 18
