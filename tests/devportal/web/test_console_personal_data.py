"""The agency console's audit of accesses to personal data: an agency admin sees its own APIs' accesses
only, filters them, downloads them, and looks up one person's by a POST (CSRF, never the URL), each
look-up audited and throttled."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.pseudonyms import KEYS_ENV
from devportal.web.routes_console_personal_data import CHOICES_DAYS
from examples.portal_seed import DEMO_AGENCY_ADMIN
from registry.models import AuditEvent
from registry.services import accounts
from registry.unit_of_work import change
from tests.devportal.helpers import csrf, sign_in, sign_up
from tests.registry.access_rows import ALICE, BOB, RING, RING_VALUE, access

URL = "/agency-console/meteo/personal-data"


@pytest.fixture
def admin(
    client: TestClient,
    sessions: sessionmaker[Session],
    seeded: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> TestClient:
    monkeypatch.setenv(KEYS_ENV, RING_VALUE)
    with sessions.begin() as session:
        access(session, ALICE, agency="meteo", api="warnings", request_id="m-alice")
        access(session, BOB, agency="meteo", api="warnings", request_id="m-bob", status=404,
               organisation="Farmers' cooperative", application_name="Crop alerts",
               application_id="6f1c1c1e-0000-4000-8000-0000000000bb")  # fmt: skip
        access(session, ALICE, agency="commerce", api="companies", request_id="c-alice")
    sign_in(client, DEMO_AGENCY_ADMIN, seeded["meteo_admin_portal_password"])
    return client


def _references(page: str) -> list[str]:
    return re.findall(r"<code>([\w-]+)</code>", page)


def _lookup(client: TestClient, identifier: str, **fields: str) -> httpx.Response:
    data = {"csrf_token": csrf(client, URL), "identifier": identifier, "format": "page", **fields}
    return client.post(URL, data=data)


def test_the_console_lists_its_own_apis_accesses(admin: TestClient) -> None:
    assert 'href="/agency-console/meteo/personal-data"' in admin.get("/agency-console/meteo/").text
    page = admin.get(URL)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert _references(page.text) == ["m-bob", "m-alice"] and "c-alice" not in page.text
    assert "refused: nothing was read (404)" in page.text
    farmers = admin.get(URL + "?organisation=Farmers' cooperative")
    assert _references(farmers.text) == ["m-bob"]
    app = admin.get(URL + "?application=6f1c1c1e-0000-4000-8000-0000000000bb")
    assert _references(app.text) == ["m-bob"] and "Crop alerts (6f1c1c1e)" in app.text
    assert _references(admin.get(URL + "?from=2030-01-01").text) == []
    bad = admin.get(URL + "?to=31/12/2025")
    assert bad.status_code == 422 and "To must be a date" in bad.text
    as_csv = admin.get("/agency-console/meteo/personal-data.csv?organisation=Farmers' cooperative")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert [r["reference"] for r in csv.DictReader(io.StringIO(as_csv.text))] == ["m-bob"]


def test_another_agency_or_a_developer_sees_nothing(admin: TestClient, outbox: Path) -> None:
    for path in ("/agency-console/commerce/personal-data", "/agency-console/commerce/personal-data.csv"):
        assert admin.get(path).status_code == 403
    refused = admin.post(
        "/agency-console/commerce/personal-data", data={"csrf_token": csrf(admin, URL), "identifier": ALICE}
    )
    assert refused.status_code == 403 and "c-alice" not in refused.text
    admin.post("/account/signout", data={"csrf_token": csrf(admin, URL)})
    signed_out = admin.get(URL, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/account/signin")
    assert admin.get("/agency-console/meteo/personal-data.csv", follow_redirects=False).status_code == 303
    sign_up(admin, outbox, "dev@example.org")
    assert admin.get(URL).status_code == 403


def test_one_persons_accesses_by_post_audited_without_the_identifier(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    assert admin.post(URL, data={"identifier": ALICE}).status_code == 403  # no CSRF token
    alice = _lookup(admin, "284127510804236")
    assert alice.status_code == 200
    assert _references(alice.text) == ["m-alice"]
    assert "This person&#39;s accesses" in alice.text
    bob_csv = _lookup(admin, BOB, format="csv")
    assert bob_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert [r["reference"] for r in csv.DictReader(io.StringIO(bob_csv.text))] == ["m-bob"]
    nobody = _lookup(admin, "1 00 00 00 000 000 00", organisation="Farmers' cooperative")
    assert _references(nobody.text) == []
    empty = _lookup(admin, "  ")
    assert empty.status_code == 422 and "Enter the identifier" in empty.text
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "personal-data.lookup")))
    assert [(e.actor, e.target, e.detail["rows"]) for e in events] == [
        (f"portal:{DEMO_AGENCY_ADMIN}", "meteo", 1), (f"portal:{DEMO_AGENCY_ADMIN}", "meteo", 1),
        (f"portal:{DEMO_AGENCY_ADMIN}", "meteo", 0),
    ]  # fmt: skip
    assert events[0].detail["subject"] == RING.pseudonym(ALICE)[1]
    assert not any("284127510804236" in str(e.detail) or BOB in str(e.detail) for e in events)


def test_lookups_are_throttled(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_PORTAL_LOOKUP_LIMIT", "2/3600")
    assert _lookup(admin, ALICE).status_code == 200
    assert _lookup(admin, BOB).status_code == 200
    third = _lookup(admin, ALICE)
    assert third.status_code == 429 and "Too many look-ups" in third.text
    assert third.headers["retry-after"].isdigit() and "m-alice" not in third.text


def test_only_an_admins_lookups_count_against_the_limit(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the caller may look people up is settled before the look-up counts: refused posts (to
    another agency's page) use up no allowance of the address they come from."""
    monkeypatch.setenv("AGORA_PORTAL_LOOKUP_LIMIT", "2/3600")
    for _ in range(3):
        refused = admin.post(
            "/agency-console/commerce/personal-data",
            data={"csrf_token": csrf(admin, URL), "identifier": ALICE, "format": "page"},
        )
        assert refused.status_code == 403
    assert _references(_lookup(admin, ALICE).text) == ["m-alice"]
    assert _lookup(admin, BOB).status_code == 200
    assert _lookup(admin, ALICE).status_code == 429


def test_the_filter_choices_come_from_the_chosen_period_or_the_last_days(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    """An agency's log holds years of calls: the organisation and application choices are read from the
    chosen period's rows (by default the last CHOICES_DAYS days), never from all of them; a choice
    already made stays offered, so the form shows the filter it applies."""
    recent = datetime.now(UTC) - timedelta(days=CHOICES_DAYS - 5)
    with sessions.begin() as session:
        access(session, BOB, agency="meteo", api="warnings", request_id="m-recent", at=recent,
               organisation="Recent fund", application_name="Recent checker",
               application_id="6f1c1c1e-0000-4000-8000-0000000000cc")  # fmt: skip
    default = admin.get(URL)
    assert _references(default.text) == ["m-recent", "m-bob", "m-alice"]  # every row is listed
    assert _options(default.text, "organisation") == ["Recent fund"]
    assert _options(default.text, "application") == ["Recent checker (6f1c1c1e)"]
    assert f"in the last {CHOICES_DAYS} days" in default.text
    march = admin.get(URL + "?from=2025-03-01&to=2025-03-31")
    assert _options(march.text, "organisation") == ["Farmers' cooperative", "Town hall of Example"]
    assert "Recent fund" not in march.text
    until = admin.get(URL + "?to=2025-03-31")  # a window ending there
    assert _options(until.text, "organisation") == ["Farmers' cooperative", "Town hall of Example"]
    kept = admin.get(URL + "?organisation=Farmers' cooperative")
    assert _options(kept.text, "organisation") == ["Farmers' cooperative", "Recent fund"]
    assert '<option value="Farmers&#39; cooperative" selected>' in kept.text


def _options(page: str, select: str) -> list[str]:
    found = re.search(rf'<select id="{select}".*?</select>', page, re.S)
    assert found, page
    return [
        html.unescape(text) for text in re.findall(r'<option value="[^"]+"[^>]*>([^<]*)<', found.group(0))
    ]


def test_a_lookup_the_audit_trail_cannot_hold_is_refused_and_writes_nothing(
    client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up and its audit event are one write: an actor the audit trail cannot store (an admin's
    254-character address, past the trail's 200) is a 422 saying so, and nothing is written."""
    with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite stores a string past its column's length")
    monkeypatch.setenv(KEYS_ENV, RING_VALUE)
    email = "a" * 63 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + ".example"
    assert len(email) == 254
    with change(sessions) as session:
        membership = accounts.add_agency_admin(session, agency_slug="meteo", email=email, actor="t")
        accounts.set_password(session, membership.developer, "correct horse battery", actor="t")
        access(session, ALICE, agency="meteo", api="warnings", request_id="m-alice")
    sign_in(client, email, "correct horse battery")
    refused = _lookup(client, ALICE)
    assert refused.status_code == 422 and "A value cannot be stored" in refused.text
    assert "m-alice" not in refused.text
    with sessions() as session:
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action == "personal-data.lookup")).all() == []
        )
