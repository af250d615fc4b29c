"""Steps of the developer's journey in the browser, shared by the journey tests."""

from __future__ import annotations

import json
import re
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from tests.devportal.browser.stack import AXE, Stack

PASSWORD = "a long journey passphrase"
JUSTIFICATION = "We alert farmers in the region of severe weather, by SMS."

# The code samples of one operation: the tabbed block after its heading; the first tab is curl.
SAMPLE_JS = """(anchor) => {
  let node = document.getElementById(anchor);
  while (node && !(node.classList && node.classList.contains('tabbed-set'))) node = node.nextElementSibling;
  return node.querySelector('pre code').textContent;
}"""


# The n-th tab (0 curl, 1 Python, 2 JavaScript) of an operation's samples.
SAMPLE_TAB_JS = """([anchor, tab]) => {
  let node = document.getElementById(anchor);
  while (node && !(node.classList && node.classList.contains('tabbed-set'))) node = node.nextElementSibling;
  return node.querySelectorAll('.tabbed-block')[tab].querySelector('pre code').textContent;
}"""


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page (its context must bypass the CSP)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class Journey:
    def __init__(self, stack: Stack, page: Any, shots: Path, *, axe: bool = True) -> None:
        self.stack = stack
        self.page = page
        self.shots = shots
        # axe-core is injected as an inline script: only where the context bypasses the CSP (a test that
        # checks the CSP itself, such as the relay attack, walks without it).
        self.axe = axe
        self.step = 0
        self.kinds: dict[str, list[str]] = {}  # page kind -> its serious/critical axe violations

    def shot(self, name: str, page: Any = None) -> None:
        self.step += 1
        (page or self.page).screenshot(path=str(self.shots / f"{self.step:02d}-{name}.png"), full_page=True)

    def page_kind(self, kind: str, page: Any = None) -> None:
        """A page of one kind: exactly one service header and footer, axe-core run, screenshot kept."""
        page = page or self.page
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-service-header]").count() == 1, kind
        assert page.locator("[data-service-footer]").count() == 1, kind
        assert page.locator("header").count() == 1 and page.locator("footer").count() == 1, kind
        self.kinds[kind] = serious_violations(page) if self.axe else []
        self.shot(kind, page)

    def url(self, path: str) -> str:
        return self.stack.portal_url + path

    def sign_up_and_verify(self, email: str) -> None:
        page = self.page
        page.goto(self.url("/"))
        assert page.title().startswith("API catalogue")
        self.page_kind("catalogue")
        page.goto(self.url("/account/signup"))
        self.page_kind("sign-up")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit] >> text=Sign up")
        page.wait_for_selector("text=Check your email")
        self.page_kind("message")
        mails = sorted(self.stack.outbox.glob("*.eml"))
        body = message_from_bytes(mails[-1].read_bytes(), policy=policy.default).get_content()  # type: ignore[attr-defined]
        link = re.search(r"http://\S+", body)
        assert link, body
        page.goto(link.group(0))
        page.wait_for_selector("text=Your email is confirmed")
        self.shot("email-verified")

    def create_app_and_key(self, name: str) -> str:
        page = self.page
        page.fill("#app-name", name)
        page.click("button:has-text('Create application')")
        page.wait_for_selector(f"h1:has-text('Application {name}')")
        self.page_kind("application")
        page.click("button:has-text('Issue a new key')")
        key = str(page.inner_text("#api-key")).strip()
        assert key.startswith("agora_")
        self.page_kind("key-shown-once")
        return key

    def copy_curl_sample(self, api_path: str, anchor: str) -> str:
        page = self.page
        page.goto(self.url(api_path))
        sample = str(page.evaluate(SAMPLE_JS, anchor))
        page.locator(f"#{anchor}").scroll_into_view_if_needed()
        self.shot("curl-sample")
        return sample

    def request_access(self, api: str, plan: str, justification: str = JUSTIFICATION) -> None:
        page = self.page
        page.goto(self.url(f"/account/access?api={api}"))
        page.select_option("#plan", plan)
        page.fill("#justification", justification)
        page.click("#access-form button[type=submit]")
        page.wait_for_selector(".notice:has-text('requested')")
        self.page_kind("access")

    def agency_admin_approves(
        self, browser: Any, email: str, password: str, justification: str = JUSTIFICATION
    ) -> None:
        context = browser.new_context(bypass_csp=True)
        admin = context.new_page()
        admin.goto(self.url("/account/signin"))
        admin.fill("#email", email)
        admin.fill("#password", password)
        admin.click("button[type=submit] >> text=Sign in")
        admin.goto(self.url("/agency-console/"))
        admin.wait_for_selector(f"text={justification}")
        self.page_kind("agency-console", admin)
        admin.fill("textarea[name=reason]", "Approved")
        admin.click("button[value=approve]")
        admin.wait_for_selector("text=the developer has been emailed")
        self.shot("approved", admin)
        context.close()

    def sees_state(self, text: str) -> None:
        self.page.goto(self.url("/account/access"))
        self.page.wait_for_selector(f"td.state-{text}")
        self.shot(f"developer-sees-{text}")

    def usage_chart(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The chart's rows, once the metering has written the calls (the page is reloaded until then)."""
        page = self.page
        deadline = time.monotonic() + timeout
        page.goto(self.url("/account/usage"))
        while page.locator("#usage-chart").count() == 0:
            assert time.monotonic() < deadline, "no usage shown"
            time.sleep(0.5)
            page.reload()
        # Chart.js draws on the canvas once loaded (under the portal's CSP, from the vendored copy).
        page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length > 0")
        self.page_kind("usage")
        rows: list[dict[str, Any]] = json.loads(str(page.inner_text("#usage-data")))
        return rows
