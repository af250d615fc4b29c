"""Issue 14, item 1, in Chromium against the real processes: an agency publishes an API whose sandbox
examples are an HTML page loading a JavaScript example that reads a signed-in developer's CSRF token and
issues a key. A developer who opens the page through the portal's relay (a link in a mail, a forum
post) runs no script and gets no new key; even a navigation forged to look like the console's fetch
gets inert text. The console (Swagger UI) still calls the API through the relay and shows the answers.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.devportal.browser.conftest import requires_chromium
from tests.devportal.browser.journey import Journey
from tests.devportal.browser.stack import Stack, artifacts_dir, start_stack

pytestmark = [pytest.mark.integration, requires_chromium]

ATTACK_JS = """
(async () => {
  document.title = "pwned";
  const apps = await (await fetch("/account/apps")).text();
  const csrf = apps.match(/name="csrf_token" value="([^"]+)"/)[1];
  const app = apps.match(/href="\\/account\\/apps\\/([0-9a-f-]{36})"/)[1];
  await fetch("/account/apps/" + app + "/keys", {
    method: "POST",
    headers: {"content-type": "application/x-www-form-urlencoded"},
    body: "csrf_token=" + encodeURIComponent(csrf),
  });
})();
"""
ATTACK_HTML = (
    '<!doctype html><html><head><title>Evil</title><script src="/gateway/meteo/evil/v1/app.js"></script>'
    "</head><body><h1>Evil page</h1><script>document.title = 'pwned';</script></body></html>"
)


def _spec() -> dict[str, Any]:
    def example(operation_id: str, media: str, body: Any) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation_id,
                "summary": operation_id,
                "responses": {"200": {"description": operation_id, "content": {media: {"example": body}}}},
            }
        }

    return {
        "openapi": "3.0.3",
        "info": {"title": "Evil", "version": "1.0.0", "description": "An agency's hostile examples."},
        "paths": {
            "/page": example("page", "text/html", ATTACK_HTML),
            "/app.js": example("script", "application/javascript", ATTACK_JS),
            "/status": example("status", "application/json", {"ok": True}),
        },
    }


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    started = start_stack(tmp_path, gateway=True)
    spec = tmp_path / "evil.json"
    spec.write_text(json.dumps(_spec()))
    started.agora(
        "api",
        "publish",
        str(spec),
        "--agency",
        "meteo",
        "--api",
        "evil",
        "--access",
        "open",
        "--accept-findings",
    )
    yield started
    started.stop()


def _wait(check: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        time.sleep(0.5)


def _keys(stack: Stack) -> int:
    with sqlite3.connect(stack.root / "agora.db") as db:
        count: int = db.execute("SELECT count(*) FROM credentials").fetchone()[0]
        return count


def test_the_relay_never_runs_an_agencys_page(browser: Any, stack: Stack) -> None:
    _wait(
        lambda: httpx.get(stack.gateway_url + "/meteo/evil/v1/status").status_code == 200,
        "the gateway serves the evil API",
    )
    context = browser.new_context()
    journey = Journey(stack, context.new_page(), artifacts_dir("relay-attack"), axe=False)  # the CSP stays on
    journey.sign_up_and_verify("victim@example.org")
    journey.create_app_and_key("victim-app")
    page = journey.page
    keys = _keys(stack)

    # 1. A link to the relayed page: the relay answers the console's fetches only.
    answer = page.goto(stack.portal_url + "/gateway/meteo/evil/v1/page")
    assert answer is not None and answer.status == 403
    page.wait_for_timeout(1500)
    assert page.title() != "pwned" and _keys(stack) == keys

    # 2. Had the browser rendered the relay's answer to the console's fetch (fetched with the console's
    # headers, given to the page as the navigation's response): inert text, no script.
    def forge(route: Any) -> None:
        headers = {**route.request.headers, "x-agora-console": "1"}
        route.fulfill(response=route.fetch(headers=headers))

    page.route("**/gateway/meteo/evil/v1/page", forge)
    answer = page.goto(stack.portal_url + "/gateway/meteo/evil/v1/page")
    assert answer is not None and answer.status == 200, answer.status if answer else None
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["content-security-policy"].startswith("sandbox")
    page.wait_for_timeout(1500)
    assert page.title() != "pwned" and _keys(stack) == keys
    assert "<script" in page.inner_text("body"), "the page is shown as text, not rendered"
    page.unroute("**/gateway/meteo/evil/v1/page")
    journey.shot("relayed-page-is-text")

    # 3. The console still works through the relay: JSON and the HTML example (as text) come back.
    console = stack.portal_url + "/meteo/evil/1.0.0/console.html"
    _wait(lambda: httpx.get(console).status_code == 200, "the portal builds the evil API's console")
    page.goto(console)
    for operation, expected in (("/status", '"ok"'), ("/page", "Evil page")):
        block = page.locator(f".opblock-get:has(.opblock-summary-path[data-path='{operation}'])")
        block.locator(".opblock-summary").click()
        block.locator("button.execute").click()
        body = block.locator(".live-responses-table .response-col_description pre").first
        body.wait_for(timeout=15000)
        assert expected in body.inner_text(), body.inner_text()
        status = block.locator(".live-responses-table tbody .response-col_status").first.inner_text()
        assert status.strip().startswith("200"), status
    journey.shot("console-through-the-relay")
    assert page.title() != "pwned" and _keys(stack) == keys
    context.close()
