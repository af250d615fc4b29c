"""Forms in the GOV.UK error pattern: errors on the same page, a summary linking to each field, every
error at once, what was typed kept; destructive actions asked first; one header and footer, with
navigation by role."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from examples.portal_seed import DEMO_AGENCY_ADMIN
from tests.devportal.helpers import create_app, csrf, issue_key, sign_in, sign_up

JUSTIFICATION = "Flood alerts for the municipal emergency service"


def _summary_links(page: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary, page
    return re.findall(r'<a href="#([^"]+)">', summary.group(0))


def test_the_access_form_shows_every_error_and_keeps_what_was_typed(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "flood-alerts")
    token = csrf(client, "/account/access")
    answer = client.post(
        "/account/access",
        data={
            "csrf_token": token,
            "api": "meteo/warnings",
            "application": "",
            "plan": "meteo-partners",
            "justification": "short",
        },
    )
    page = answer.text
    assert answer.status_code == 422 and "<title>Error: Access to APIs" in page
    assert _summary_links(page) == ["application", "justification"]  # both at once, in field order
    assert 'id="justification-error"' in page and 'aria-invalid="true"' in page
    assert "10 characters or more" in page
    assert ">short</textarea>" in page  # what was typed is kept
    assert 'value="meteo-partners" selected' in page and 'value="meteo/warnings"' in page

    answer = client.post(
        "/account/access",
        data={
            "csrf_token": token,
            "api": "meteo/warnings",
            "application": app_id,
            "plan": "standard",
            "justification": JUSTIFICATION,
        },
    )
    assert answer.status_code == 200 and "requested" in answer.text


def test_application_names_errors_stay_on_the_page(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "dev@example.org")
    token = csrf(client, "/account/apps")
    answer = client.post("/account/apps", data={"csrf_token": token, "name": "", "description": "kept text"})
    assert answer.status_code == 422 and _summary_links(answer.text) == ["app-name"]
    assert "Enter a name for the application" in answer.text and ">kept text</textarea>" in answer.text
    app_id = create_app(client, "named")
    answer = client.post(f"/account/apps/{app_id}/rename", data={"csrf_token": token, "name": "x" * 201})
    assert answer.status_code == 422 and "200 characters or fewer" in answer.text


def test_revoke_rotate_and_delete_ask_first(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "careful")
    issue_key(client, app_id)
    page = client.get(f"/account/apps/{app_id}").text
    revoke = re.search(r'href="(/account/keys/[^"]+/revoke)"', page)
    rotate = re.search(r'href="(/account/keys/[^"]+/rotate)"', page)
    assert revoke and rotate and f'href="/account/apps/{app_id}/delete"' in page
    assert 'action="/account/keys/' not in page  # no one-click destructive form on the app page
    asked = client.get(revoke.group(1)).text
    assert "Revoke key" in asked and "cannot be undone" in asked and "Yes, revoke" in asked
    asked = client.get(rotate.group(1))
    bad = client.post(
        rotate.group(1), data={"csrf_token": csrf(client, "/account/apps"), "overlap_hours": "x"}
    )
    assert asked.status_code == 200 and bad.status_code == 422
    assert _summary_links(bad.text) == ["overlap"] and 'value="x"' in bad.text
    assert "Yes, delete careful" in client.get(f"/account/apps/{app_id}/delete").text


def test_one_header_and_footer_and_navigation_by_role(
    client: TestClient, outbox: Path, seeded: dict[str, str]
) -> None:
    signed_out = client.get("/account/signin").text
    assert signed_out.count("<header") == 1 and signed_out.count("<footer") == 1
    assert "Sign in</a>" in signed_out and "/accessibility/" in signed_out and "/transparency/" in signed_out
    assert client.get("/account/api/me").json() == {"signed_in": False}
    sign_up(client, outbox, "dev@example.org")
    page = client.get("/account/apps").text
    assert "Agency console" not in page and 'href="/account/apps" aria-current="page"' in page
    assert '<nav class="breadcrumbs"' in page
    assert client.get("/account/api/me").json() == {
        "signed_in": True,
        "email": "dev@example.org",
        "agency_admin": False,
    }
    missing = client.get("/account/apps/nope", headers={"accept": "text/html"}).text
    assert "Signed in as <strong>dev@example.org</strong>" in missing  # errors keep the header's state
    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    sign_in(client, DEMO_AGENCY_ADMIN, seeded["meteo_admin_portal_password"])
    assert "Agency console</a>" in client.get("/account/").text
    assert client.get("/account/api/me").json()["agency_admin"] is True
    assert "--portal-primary: #1f3a68" in client.get("/account/chrome/identity.css").text
