"""axe-core in Chromium finds no serious or critical violation on the portal's main pages: the home,
an agency, an API version, the account pages and the agency console (public-sector sites must be
accessible)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.devportal.browser.conftest import requires_chromium
from tests.devportal.browser.stack import AXE, Stack, artifacts_dir, start_stack

pytestmark = [pytest.mark.integration, requires_chromium]

# A page of every kind: catalogue, agency, API overview and reference, the console (Swagger UI),
# getting started, the statements, transparency, an error page, and the account pages.
PUBLIC = [
    "/",
    "/meteo/",
    "/commerce/companies/",
    "/meteo/warnings/1.0.0/",
    "/commerce/companies/1.0.0/",
    "/commerce/companies/1.0.0/console.html",
    "/meteo/warnings/1.0.0/console.html",
    "/getting-started/",
    "/accessibility/",
    "/legal/",
    "/transparency/",
    "/no-such-page",
    "/account/signup",
    "/account/signin",
]
DEVELOPER = ["/account/", "/account/apps", "/account/access?api=meteo/warnings", "/account/usage"]
AGENCY_ADMIN = ["/agency-console/meteo/", "/agency-console/meteo/personal-data"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = start_stack(tmp_path_factory.mktemp("a11y"), gateway=False)
    yield started
    started.stop()


def _violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _audit(context: Any, stack: Stack, paths: list[str], shots: Path) -> dict[str, list[str]]:
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for path in paths:
        page.goto(stack.portal_url + path)
        page.wait_for_load_state("networkidle")
        if path.endswith("console.html"):  # Swagger UI renders after loading the spec
            page.wait_for_selector(".opblock-summary", timeout=30_000)
            page.locator(".opblock-summary").first.click()  # an operation opened: its widgets too
            page.wait_for_timeout(300)
        page.screenshot(
            path=str(shots / (path.strip("/").replace("/", "_").replace("?", "_") or "home")) + ".png"
        )
        bad = _violations(page)
        if bad:
            found[path] = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in bad]
    page.close()
    return found


def _sign_in(context: Any, stack: Stack, email: str, password: str) -> None:
    page = context.new_page()
    page.goto(stack.portal_url + "/account/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit] >> text=Sign in")
    page.wait_for_url("**/account/")
    page.close()


def test_public_account_and_console_pages_pass_axe(browser: Any, stack: Stack) -> None:
    shots = artifacts_dir("accessibility")
    creds = json.loads((stack.root / "credentials.json").read_text())
    # bypass_csp: axe is injected as an inline script, which the portal's policy rightly refuses.
    public = browser.new_context(bypass_csp=True)
    found = _audit(public, stack, PUBLIC, shots)
    developer = browser.new_context(bypass_csp=True)
    _sign_in(developer, stack, "demo@agora.example", creds["demo_portal_password"])
    found.update(_audit(developer, stack, DEVELOPER, shots))
    admin = browser.new_context(bypass_csp=True)
    _sign_in(admin, stack, "admin@meteo.example.gov", creds["meteo_admin_portal_password"])
    found.update(_audit(admin, stack, AGENCY_ADMIN, shots))
    for context in (public, developer, admin):
        context.close()
    assert found == {}, json.dumps(found, indent=1)


def test_console_search_and_filters_work_under_the_csp(browser: Any, stack: Stack) -> None:
    """The portal's own policy (no bypass): Swagger UI renders the operations, search finds an API, the
    catalogue filters, and the browser reports no CSP violation."""
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(stack.portal_url + "/meteo/warnings/1.0.0/console.html")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    assert page.locator(".opblock").count() >= 4
    page.goto(stack.portal_url + "/")
    page.select_option("#filter-access", "restricted")
    assert page.inner_text("#catalogue-count") == "2 APIs"  # weather warnings, benefit entitlements
    page.click(".md-search__input")
    page.keyboard.type("weather", delay=50)
    page.wait_for_selector(".md-search-result__item", timeout=30_000)
    context.close()
    assert refused == []


def test_pages_reflow_at_320_pixels_and_the_keyboard_reaches_the_catalogue(
    browser: Any, stack: Stack
) -> None:
    """WCAG 1.4.10: no horizontal scrolling at 320 px (code blocks scroll on their own); the first Tab
    reaches the skip link, which moves the focus to the page's content."""
    shots = artifacts_dir("narrow")
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in ("/", "/commerce/companies/1.0.0/", "/account/signin", "/accessibility/"):
        page.goto(stack.portal_url + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(
            path=str(shots / ((path.strip("/").replace("/", "_") or "home") + ".png")), full_page=True
        )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width} px wide at 320 px"
    page.goto(stack.portal_url + "/account/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    context.close()
