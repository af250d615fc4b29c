"""The ops dashboard in Chromium: sign in with the admin token, see the traffic just generated (the same
figures as the analytics API), see new traffic appear without a reload, no CSP violation. A screenshot
is kept at artifacts/ops/dashboard.png."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.devportal.browser.conftest import browser, requires_chromium  # noqa: F401  (fixture)
from tests.integration.ops.conftest import ARTIFACTS, Traffic
from tests.integration.ops.stack import OpsStack

pytestmark = [pytest.mark.integration, pytest.mark.postgres, requires_chromium]
ROW = "#apis tbody tr:has(td:first-child:text-is('cadastre/addresses')) td:nth-child(2)"
# The calls shown for one API in the page's APIs table, -1 while it is not there.
CALLS = """(n) => { for (const tr of document.querySelectorAll('#apis tbody tr')) {
  if (tr.cells[0].textContent === 'cadastre/addresses') { return Number(tr.cells[1].textContent) >= n; } }
  return false; }"""


def _api_calls(ops: OpsStack) -> int:
    url = f"{ops.admin_url}/admin/analytics/usage?group_by=agency,api&agency=cadastre&api=addresses"
    return int(httpx.get(url, headers=ops.admin_headers).json()["rows"][0]["calls"])


def test_dashboard_shows_the_traffic_and_refreshes_in_place(
    browser: Any,  # noqa: F811
    ops: OpsStack,
    traffic: Traffic,
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(ops.admin_url + "/admin/ui/")
    assert page.url.endswith("/admin/ui/signin")
    page.fill("#token", ops.credentials["admin_token"])
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/ui/")
    expected = traffic.total("cadastre")
    page.wait_for_function(CALLS, arg=expected, timeout=20_000)  # rolled up within a few seconds
    cell = page.locator(ROW)
    assert int(cell.inner_text()) == expected == _api_calls(ops)
    assert page.evaluate("() => typeof window.Chart") == "function"  # served from this origin
    assert page.locator("#chart-traffic").bounding_box() is not None
    page.evaluate("() => { window.notReloaded = true; }")
    for _ in range(5):  # counted in `traffic` too: the other tests compare against it
        status = httpx.get(f"{ops.gateway_url}/cadastre/addresses/v1/municipalities").status_code
        traffic.counts[("cadastre", "addresses", status)] += 1
    page.wait_for_function(CALLS, arg=expected + 5, timeout=20_000)
    assert page.evaluate("() => window.notReloaded") is True  # updated in place
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert problems == []
    context.close()
