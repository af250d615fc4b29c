"""The main developer journey walked with the keyboard only, as the accessibility statement says it is:
find an API in the catalogue, sign up, confirm the email, create an application, issue a key, ask for
access to an API under a plan, revoke a key after confirming. No mouse and no element clicked or filled
by the test: Tab, Shift+Tab, Enter, Space, the arrows and typed text (only the confirmation link, which
comes by mail, is opened by address). Every focus stop on the way is checked (tests/devportal/browser/
keyboard.py): a control of the page, in reading order, with a visible focus."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest

from tests.devportal.browser.conftest import requires_chromium
from tests.devportal.browser.keyboard import Keyboard
from tests.devportal.browser.stack import Stack, artifacts_dir, start_stack

pytestmark = [pytest.mark.integration, requires_chromium]

EMAIL = "keys.only@example.org"
PASSWORD = "typed with the keyboard only"
APP = "keyboard-app"
JUSTIFICATION = "Supplier checks for our procurement team."


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = start_stack(tmp_path_factory.mktemp("keyboard"), gateway=False)
    yield started
    started.stop()


def _confirmation_link(stack: Stack) -> str:
    mail = sorted(stack.outbox.glob("*.eml"))[-1]
    body = message_from_bytes(mail.read_bytes(), policy=policy.default).get_content()  # type: ignore[attr-defined]
    link = re.search(r"http://\S+/account/verify\?\S+", body)
    assert link, body
    return link.group(0)


def _value(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => el.value"))


def test_the_main_journey_with_the_keyboard_only(browser: Any, stack: Stack) -> None:
    """Each page of the journey is first walked through, every control from the top to the footer's
    last link; the walk then goes back (Shift+Tab) to the control the journey needs."""
    shots = artifacts_dir("keyboard")
    context = browser.new_context()
    page = context.new_page()
    keys = Keyboard(page)

    # Find an API: the catalogue's access filter is a native select, changed with the arrows; the
    # cards it leaves out leave the tab order, so the next Tab is on the one API left.
    page.goto(stack.portal_url + "/")
    keys.through_page()
    keys.tab_to("#filter-access", back=True)
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    assert _value(page, "#filter-access") == "key"
    assert page.inner_text("#catalogue-count") == "1 API"
    keys.tab(".portal-card a", "Company register")
    page.screenshot(path=str(shots / "01-catalogue-filtered.png"))
    # Or search for it: the results show under the box, the arrows go through them, Enter opens one.
    keys.tab_to(".md-search__input", back=True)
    keys.type("Company register")
    # The results for the whole query (their links carry it, highlighted), shown under the box.
    page.wait_for_selector(".md-search-result__link[href*='h=company+register']")
    page.wait_for_function("document.querySelector('.md-search__scrollwrap').clientHeight > 100")
    keys.move("ArrowDown", ".md-search-result__link", "Company register")
    page.screenshot(path=str(shots / "02-search.png"))
    keys.press("Enter", to="**/commerce/companies/?h=*")

    # The API's page, its version's page (code samples' tabs included), sign up from the header.
    keys.through_page()
    keys.tab_to("main a[href='1.0.0/']", back=True)
    keys.press("Enter", to="**/commerce/companies/1.0.0/")
    keys.through_page()
    keys.tab_to("[data-service-header] a[href='/account/signup']", back=True, limit=250)
    keys.press("Enter", to="**/account/signup")
    keys.through_page()
    keys.tab_to("#email", back=True)
    keys.type(EMAIL)
    keys.tab("#name")
    keys.type("Keys Only")
    keys.tab("#password")
    keys.type(PASSWORD)
    keys.tab("button[type=submit]", "Sign up")
    page.screenshot(path=str(shots / "03-sign-up.png"))
    keys.press("Enter", to="**/account/signup")
    assert page.inner_text("h1") == "Check your email"
    keys.through_page()

    # The confirmation link comes by mail; it signs in and leads to the applications.
    page.goto(_confirmation_link(stack))
    page.wait_for_url("**/account/apps")
    keys.through_page()
    keys.tab_to("#app-name", back=True)
    keys.type(APP)
    keys.tab("#app-organisation")
    keys.type("Keys Only Ltd")
    keys.tab("#app-description")
    keys.type("Checks suppliers before each order.")
    keys.tab("button[type=submit]", "Create application")
    keys.press("Enter", to="**/account/apps/*")
    assert page.inner_text("h1") == f"Application {APP}"

    # Issue a key: the sandbox box left unticked, the button pressed with Space.
    keys.through_page()
    keys.tab_to("button[type=submit]", "Issue a new key", back=True)
    keys.tab("#sandbox", back=True)
    keys.tab("button[type=submit]", "Issue a new key")
    assert not page.is_checked("#sandbox")
    keys.press("Space", to="**/account/apps/*/keys")
    key = page.inner_text("#api-key").strip()
    assert key.startswith("agora_")
    prefix = "_".join(key.split("_")[:2])
    page.screenshot(path=str(shots / "04-key-shown-once.png"))
    keys.through_page()  # the key itself is a stop, to be selected and copied
    assert "pre#secret" in " ".join(keys.stops[-30:])
    keys.tab_to("a", f"Back to {APP}", back=True)
    keys.press("Enter", to="**/account/apps/*")

    # Ask for access to the API found, under its Standard plan (the agency approves it).
    keys.tab_to("a[href='/account/access']", "request access")
    keys.press("Enter", to="**/account/access")
    keys.through_page()
    keys.tab_to("#pick-api", back=True)
    while _value(page, "#pick-api") != "commerce/companies":
        keys.press("ArrowDown")
    keys.tab("button[type=submit]", "Show its plans")
    keys.press("Enter", to=re.compile(r"/account/access\?api=commerce"))
    keys.through_page()
    keys.tab_to("#application", back=True)
    assert page.eval_on_selector("#application", "el => el.selectedOptions[0].text") == APP
    keys.tab("#plan")
    while _value(page, "#plan") != "standard":
        keys.press("ArrowDown")
    keys.tab("#justification")
    keys.type(JUSTIFICATION)
    keys.tab("#access-form button[type=submit]", "Subscribe")
    page.screenshot(path=str(shots / "05-access.png"))
    keys.press("Enter", to="**/account/access*")
    assert "commerce/companies requested" in page.inner_text(".notice")
    row = page.locator("tr", has_text="commerce/companies").inner_text()
    assert APP in row and "Standard" in row and "pending" in row, row

    # Revoke the key: through the navigation to the application, then the confirmation page, whose
    # two choices are both reached before confirming.
    keys.tab_to(".service-nav a", "Applications")
    keys.press("Enter", to="**/account/apps")
    keys.tab_to("main a", APP)
    keys.press("Enter", to="**/account/apps/*")
    keys.tab_to("a.warning-button", f"Revoke key {prefix}")
    keys.press("Enter", to="**/account/keys/*/revoke")
    keys.through_page()
    keys.tab_to("a.button", "No, keep it", back=True)
    keys.tab("button.danger", f"Yes, revoke {prefix}", back=True)
    page.screenshot(path=str(shots / "06-confirm-revoke.png"))
    keys.press("Enter", to="**/account/apps/*")
    assert "Key revoked" in page.inner_text(".notice")
    assert "revoked" in page.locator("tr", has_text=prefix).inner_text()
    page.screenshot(path=str(shots / "07-revoked.png"))
    context.close()
