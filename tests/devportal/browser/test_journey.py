"""The developer's journey on a fresh platform, in Chromium, against the real processes (example
upstreams, the gateway with its key-auth, access-control and usage-metering plugins, the portal).

A new developer signs up, verifies the email, creates an application, gets a key, copies the curl
sample (and the Python and JavaScript ones) and calls the API through the gateway, then sees the calls
in the usage chart; an agency admin approves a restricted-access request and the developer's next call
succeeds. Screenshots of each step are kept under artifacts/portal/journey/.
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


def test_journey_through_the_gateway(browser: Any, whole_stack: Stack) -> None:
    stack = whole_stack
    context = browser.new_context()
    journey = Journey(stack, context.new_page(), artifacts_dir("journey"))
    journey.sign_up_and_verify("first.call@example.org")
    key = journey.create_app_and_key("first-call")
    sample = journey.copy_curl_sample("/commerce/companies/1.0.0/", "op-searchcompanies")
    pasted = sample.replace("YOUR_API_KEY", key).rstrip()
    done = subprocess.run(
        ["bash", "-c", pasted + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout.rstrip().endswith("200"), done.stdout + done.stderr
    # The Python and JavaScript samples of the same operation work as pasted too, and so does the
    # console's way through the portal's relay.
    python_sample = journey.page.evaluate(SAMPLE_TAB_JS, ["op-searchcompanies", 1]).replace(
        "YOUR_API_KEY", key
    )
    ran = subprocess.run(
        [sys.executable, "-c", python_sample], capture_output=True, text=True, timeout=30, check=False
    )
    assert ran.returncode == 0 and '"items"' in ran.stdout, ran.stderr
    js_sample = journey.page.evaluate(SAMPLE_TAB_JS, ["op-searchcompanies", 2]).replace("YOUR_API_KEY", key)
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
    # Metering writes in batches: the four calls show within a few flushes.
    rows = _poll(lambda: [r for r in journey.usage_chart() if r["api"] == "companies" and r["calls"] >= 4])
    assert rows, "the four calls never showed in the usage chart"

    warnings = f"{stack.gateway_url}/meteo/warnings/v1/regions"
    assert httpx.get(warnings, headers={"apikey": key}).status_code == 403
    journey.request_access("meteo/warnings", "meteo-partners")
    creds = _credentials(stack)
    journey.agency_admin_approves(browser, "admin@meteo.example.gov", creds["meteo_admin_portal_password"])
    # The gateway picks up the new snapshot (the approved grant) within its polling interval.
    assert _poll(lambda: httpx.get(warnings, headers={"apikey": key}).status_code == 200)
    journey.sees_state("approved")
    assert "approved" in sorted(stack.outbox.glob("*.eml"))[-1].read_text()
    context.close()
