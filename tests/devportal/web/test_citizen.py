"""The citizen's page, "Who accessed my data", signed in through a real OpenID Provider
(oidc/citizen_provider.mjs): a person sees exactly their own accesses (never another person's, whatever
the URL, parameter or cookie), filters them, downloads them as CSV and JSON, and signs out; without the
federation configured the page says the service is not available here."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.errors import InvalidInput
from agora.pseudonyms import KEYS_ENV, KeyRing
from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.citizen_oidc import citizen_oidc_from_env
from devportal.web.citizen_session import LOGIN_COOKIE, SESSION_COOKIE, CitizenCookies
from devportal.web.mailer import OutboxMailer
from registry.services.personal_data_export import FIELDS
from tests.devportal.citizen_oidc import citizen_env, citizen_provider, provider_sign_in, sign_in_citizen
from tests.registry.access_rows import ALICE, BOB, RING, RING_VALUE, access

PORTAL = "http://127.0.0.1:8002"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with citizen_provider(PORTAL + "/my-data/callback") as started:
        yield started


@pytest.fixture
def log(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """Alice: a served access, a refused one, and one recorded under the previous key; Bob: one access,
    through another organisation."""
    monkeypatch.setenv(KEYS_ENV, RING_VALUE)
    with sessions.begin() as session:
        before_rotation = KeyRing((RING.keys[1],))
        march = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
        access(session, ALICE, ring=before_rotation, request_id="alice-old-key",
               at=datetime(2024, 11, 2, tzinfo=UTC), purpose="Renewing the family allowance")  # fmt: skip
        access(session, ALICE, request_id="alice-served", at=march)
        access(session, ALICE, request_id="alice-refused", status=403, at=march.replace(day=12),
               organisation="Family allowance fund", application_name="Allowance checker")  # fmt: skip
        access(session, BOB, request_id="bob-served", organisation="Bob's employer",
               purpose="Checking Bob's situation")  # fmt: skip


def _portal(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, issuer: str | None
) -> TestClient:
    citizen = citizen_oidc_from_env(citizen_env(issuer)) if issuer else None
    app = create_portal_app(
        settings,
        sessions,
        site_dir=tmp_path / "site",
        mailer=OutboxMailer(tmp_path / "outbox"),
        citizen=citizen,
    )
    return TestClient(app, base_url=PORTAL)


@pytest.fixture
def portal(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, issuer: str, log: None
) -> Iterator[TestClient]:
    with _portal(settings, sessions, tmp_path, issuer) as client:
        yield client


@pytest.fixture
def second_browser(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, issuer: str, log: None
) -> Iterator[TestClient]:
    with _portal(settings, sessions, tmp_path, issuer) as client:
        yield client


def _references(page: str) -> list[str]:
    return re.findall(r"Reference ([\w-]+)<", page)


def _signed_in(client: TestClient, login: str) -> None:
    answer = sign_in_citizen(client, login)
    assert answer.status_code == 303 and answer.headers["location"] == "/my-data/", answer.text


def test_without_the_federation_the_page_says_it_is_not_available(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with _portal(settings, sessions, tmp_path, None) as client:
        for path in (
            "/my-data/",
            "/my-data/signin",
            "/my-data/accesses.csv",
            "/my-data/callback?code=x&state=y",
        ):
            page = client.get(path)
            assert page.status_code == 503, path
            assert "does not offer" in page.text and "<footer" in page.text, path
        problem = client.get("/my-data/accesses.json", headers={"Accept": "application/json"})
        assert problem.status_code == 503 and problem.headers["content-type"] == PROBLEM


def test_signed_out_the_page_invites_to_sign_in(portal: TestClient) -> None:
    page = portal.get("/my-data/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'href="/my-data/signin"' in page.text and "What is recorded, and what is not" in page.text
    assert _references(page.text) == []
    assert portal.get("/my-data", follow_redirects=False).headers["location"] == "/my-data/"
    assert 'href="/my-data/">Who accessed my data</a>' in portal.get("/account/signin").text  # the footer


def test_a_citizen_sees_exactly_their_own_accesses(portal: TestClient, second_browser: TestClient) -> None:
    _signed_in(portal, "alice")
    page = portal.get("/my-data/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert _references(page.text) == ["alice-refused", "alice-served", "alice-old-key"]
    assert "Refused: nothing was read" in page.text and "Renewing the family allowance" in page.text
    assert (
        "Family allowance fund" in page.text
        and "Allowance checker" in page.text
        and "public-task" in page.text
    )
    assert (
        "bob-served" not in page.text
        and "Checking Bob" not in page.text
        and "Bob&#39;s employer" not in page.text
    )

    _signed_in(second_browser, "bob")
    bob = second_browser.get("/my-data/")
    assert _references(bob.text) == ["bob-served"] and "alice" not in bob.text.lower()


def test_the_session_cookie_holds_no_identifier_and_is_locked_down(portal: TestClient, issuer: str) -> None:
    started = portal.get("/my-data/signin", follow_redirects=False)
    login_cookie = started.headers["set-cookie"]
    assert login_cookie.startswith(LOGIN_COOKIE + "=")
    assert "HttpOnly" in login_cookie and "SameSite=lax" in login_cookie and "Path=/my-data" in login_cookie
    location = started.headers["location"]
    assert location.startswith(issuer) and "code_challenge_method=S256" in location and "nonce=" in location
    back = portal.get(provider_sign_in(location, "alice"), follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/my-data/"  # nothing in the URL
    cookies = back.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/my-data", "Max-Age=1800"):
        assert attribute in session_cookie
    assert "Secure" not in session_cookie  # a portal served over http (tests): https sets it
    assert any(c.startswith(LOGIN_COOKIE + '=""') for c in cookies)  # the sign-in's cookie is spent
    value = session_cookie.split(";", 1)[0].split("=", 1)[1]
    payload = URLSafeTimedSerializer("test-session-secret", salt="agora.citizen.session.v1").loads(value)
    assert [tuple(p) for p in payload["p"]] == RING.all_pseudonyms(ALICE)
    assert "284127510804236" not in str(payload) and ALICE not in str(payload)


def test_tampered_parameters_never_show_another_persons_accesses(portal: TestClient) -> None:
    _signed_in(portal, "bob")
    alice_key, alice_pseudonym = RING.pseudonym(ALICE)
    for query in (
        f"identifier={ALICE}", f"subject={alice_pseudonym}", f"key_id={alice_key}&subject={alice_pseudonym}",
        "organisation=Family allowance fund", "organisation=Town hall of Example", "from=2000-01-01",
        f"national_id={ALICE}&sub=alice",
    ):  # fmt: skip
        for path in ("/my-data/", "/my-data/accesses.csv", "/my-data/accesses.json"):
            answer = portal.get(f"{path}?{query}", headers={"Agora-Data-Subject": ALICE})
            assert answer.status_code == 200, (path, query)
            assert "alice-" not in answer.text, (path, query)


def test_no_cookie_or_a_forged_one_signs_nobody_in(portal: TestClient, settings: Settings) -> None:
    for path in ("/my-data/accesses.csv", "/my-data/accesses.json"):
        redirected = portal.get(path, follow_redirects=False)
        assert redirected.status_code == 303 and redirected.headers["location"] == "/my-data/"
        problem = portal.get(path, headers={"Accept": "application/json"})
        assert problem.status_code == 401 and problem.headers["content-type"] == PROBLEM
    alice = [list(p) for p in RING.all_pseudonyms(ALICE)]
    right = CitizenCookies(settings.session_secret, secure=False)
    forged = [
        "not-a-cookie",
        URLSafeTimedSerializer("another-secret", salt="agora.citizen.session.v1").dumps(
            {"p": alice, "csrf": "x"}
        ),
        URLSafeTimedSerializer(settings.session_secret).dumps({"p": alice, "csrf": "x"}),  # no salt
        right._login.dumps(["state", "nonce", "verifier"]),  # the other cookie's kind
    ]
    # Bob's genuine cookie with Alice's pseudonyms put in its payload: the signature no longer holds.
    genuine = right._session.dumps({"p": [list(p) for p in RING.all_pseudonyms(BOB)], "csrf": "x"})
    portal.cookies.set(SESSION_COOKIE, genuine, path="/my-data")
    assert _references(portal.get("/my-data/").text) == ["bob-served"]  # the genuine one works
    signed_part = right._session.dumps({"p": alice, "csrf": "x"}).rsplit(".", 1)[0]
    forged.append(signed_part + "." + genuine.rsplit(".", 1)[1])
    for value in forged:
        portal.cookies.clear()
        portal.cookies.set(SESSION_COOKIE, value, path="/my-data")
        page = portal.get("/my-data/")
        assert page.status_code == 200 and 'href="/my-data/signin"' in page.text
        assert _references(page.text) == []
        assert portal.get("/my-data/accesses.json", follow_redirects=False).status_code == 303


def test_an_expired_session_signs_nobody_in(
    portal: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookies = CitizenCookies(settings.session_secret, secure=False)
    signed_at = time.time() - 31 * 60
    with monkeypatch.context() as patched:
        patched.setattr("itsdangerous.timed.time.time", lambda: signed_at)
        value = cookies._session.dumps({"p": [list(p) for p in RING.all_pseudonyms(ALICE)], "csrf": "x"})
    portal.cookies.set(SESSION_COOKIE, value, path="/my-data")
    assert _references(portal.get("/my-data/").text) == []


def test_filters_and_downloads_agree(portal: TestClient) -> None:
    _signed_in(portal, "alice")
    march = portal.get("/my-data/?from=2025-03-01&to=2025-03-31")
    assert _references(march.text) == ["alice-refused", "alice-served"]
    assert 'href="/my-data/accesses.csv?from=2025-03-01&amp;to=2025-03-31"' in march.text
    fund = portal.get("/my-data/?organisation=Family allowance fund")
    assert _references(fund.text) == ["alice-refused"]
    assert '<option value="Family allowance fund" selected>' in fund.text
    bad = portal.get("/my-data/?from=2025-03-31&to=2025-03-01")
    assert bad.status_code == 422 and "From must be before to" in bad.text and 'href="#from"' in bad.text

    as_csv = portal.get("/my-data/accesses.csv?from=2025-03-01&to=2025-03-31")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["cache-control"] == "no-store"
    assert 'filename="who-accessed-my-data.csv"' in as_csv.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    as_json = portal.get("/my-data/accesses.json?from=2025-03-01&to=2025-03-31")
    document = as_json.json()
    assert [r["reference"] for r in table] == [r["reference"] for r in document["accesses"]]
    assert [r["reference"] for r in table] == ["alice-refused", "alice-served"]
    assert list(table[0]) == list(FIELDS) == list(document["accesses"][0])
    assert document["accesses"][0]["outcome"] == "refused" and table[0]["outcome"] == "refused"
    assert document["filters"]["from"] == "2025-03-01T00:00:00+00:00"
    assert portal.get("/my-data/accesses.json?to=nonsense").status_code == 422


def test_sign_out_needs_the_sessions_csrf_token(portal: TestClient) -> None:
    _signed_in(portal, "alice")
    page = portal.get("/my-data/")
    token = re.search(r'action="/my-data/signout".*?name="csrf_token" value="([^"]+)"', page.text, re.S)
    assert token
    assert portal.post("/my-data/signout", data={"csrf_token": "forged"}).status_code == 403
    assert portal.post("/my-data/signout").status_code == 403
    assert _references(portal.get("/my-data/").text) != []  # still signed in
    out = portal.post("/my-data/signout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/my-data/"
    assert out.headers["set-cookie"].startswith(SESSION_COOKIE + '=""')
    after = portal.get("/my-data/")
    assert _references(after.text) == [] and "You are signed out of this page" in after.text


def _nobody_signed_in(*clients: TestClient) -> None:
    for client in clients:
        assert SESSION_COOKIE not in client.cookies
        assert _references(client.get("/my-data/").text) == []


def _with_query(url: str, **changes: str | None) -> str:
    """`url` with these query parameters replaced (None: removed)."""
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qsl(parts.query) if k not in changes}
    query.update({k: v for k, v in changes.items() if v is not None})
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_sign_in_that_cannot_be_trusted_opens_no_session(
    settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    issuer: str,
    portal: TestClient,
    second_browser: TestClient,
) -> None:
    # The provider gives no identifier for carol (no national_id claim).
    failed = sign_in_citizen(portal, "carol")
    assert failed.status_code == 401 and "claim &#39;national_id&#39;" in failed.text
    _nobody_signed_in(portal)
    # An answer meant for another browser (a victim lured to an attacker's callback URL): refused.
    started = portal.get("/my-data/signin", follow_redirects=False)
    attackers = provider_sign_in(
        second_browser.get("/my-data/signin", follow_redirects=False).headers["location"], "bob"
    )
    assert started.status_code == 303
    refused = portal.get(attackers, follow_redirects=False)
    assert (
        refused.status_code == 401 and "does not belong to the sign-in this browser started" in refused.text
    )
    # No sign-in under way at all.
    fresh = second_browser
    fresh.cookies.clear()
    assert fresh.get("/my-data/callback?code=x&state=y").status_code == 401
    # A provider's error is shown only when the answer carries this sign-in's state: a crafted link
    # (no state, or another one) puts none of its text on the portal's page.
    for crafted in ("", "&state=forged"):
        fresh.get("/my-data/signin", follow_redirects=False)
        lure = fresh.get(
            f"/my-data/callback?error=access_denied&error_description=Call+0800+000+000{crafted}"
        )
        assert lure.status_code == 401 and "0800" not in lure.text
        assert "does not belong to the sign-in this browser started" in lure.text
    location = fresh.get("/my-data/signin", follow_redirects=False).headers["location"]
    state = dict(parse_qsl(urlsplit(location).query))["state"]
    denied = fresh.get(
        f"/my-data/callback?error=access_denied&error_description=End-User+aborted&state={state}"
    )
    assert denied.status_code == 401 and "End-User aborted" in denied.text
    # An answer that says it comes from another provider (RFC 9207 `iss`, a mix-up): refused.
    location = portal.get("/my-data/signin", follow_redirects=False).headers["location"]
    back = provider_sign_in(location, "alice")
    assert dict(parse_qsl(urlsplit(back).query))["iss"] == issuer  # the provider says who it is
    mixed_up = portal.get(_with_query(back, iss="https://attacker.example"), follow_redirects=False)
    assert mixed_up.status_code == 401 and "another identity provider" in mixed_up.text
    # The userinfo endpoint answers for another subject than the ID token's (mallory's token, alice's
    # national_id): refused, nobody signed in as alice.
    swapped = sign_in_citizen(portal, "mallory")
    assert swapped.status_code == 401 and "userinfo endpoint answered for another person" in swapped.text
    # The provider's metadata names another issuer than the portal is configured with (the portal asks
    # localhost, the provider says 127.0.0.1): neither a new sign-in nor an answer under way goes on.
    elsewhere = issuer.replace("127.0.0.1", "localhost")
    with _portal(settings, sessions, tmp_path, elsewhere) as misled:
        starting = misled.get("/my-data/signin", follow_redirects=False)
        assert starting.status_code == 503 and "names another issuer" in starting.text
        location = portal.get("/my-data/signin", follow_redirects=False).headers["location"]
        misled.cookies.set(LOGIN_COOKIE, portal.cookies[LOGIN_COOKIE], path="/my-data")
        answered = misled.get(provider_sign_in(location, "alice"), follow_redirects=False)
        assert answered.status_code == 503 and "names another issuer" in answered.text
        _nobody_signed_in(misled)
    _nobody_signed_in(portal, fresh)


def test_by_default_the_identifier_is_the_subject_of_the_id_token(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, log: None
) -> None:
    """`AGORA_CITIZEN_OIDC_SUBJECT_CLAIM` unset: `sub` itself, from the verified ID token."""
    with sessions.begin() as session:
        access(session, "1850575123456", request_id="dora-served", organisation="Dora's bank")
    with citizen_provider(PORTAL + "/my-data/callback", people={"1850575123456": {"name": "Dora"}}) as issuer:
        env = {k: v for k, v in citizen_env(issuer).items() if k != "AGORA_CITIZEN_OIDC_SUBJECT_CLAIM"}
        oidc = citizen_oidc_from_env(env)
        assert oidc is not None and oidc.subject_claim == "sub"
        app = create_portal_app(
            settings,
            sessions,
            site_dir=tmp_path / "site",
            mailer=OutboxMailer(tmp_path / "outbox"),
            citizen=oidc,
        )
        with TestClient(app, base_url=PORTAL) as client:
            _signed_in(client, "1850575123456")
            assert _references(client.get("/my-data/").text) == ["dora-served"]


def test_the_settings_are_checked_when_the_portal_starts() -> None:
    assert citizen_oidc_from_env({}) is None
    with pytest.raises(InvalidInput, match="AGORA_CITIZEN_OIDC_CLIENT_ID is required"):
        citizen_oidc_from_env({"AGORA_CITIZEN_OIDC_ISSUER": "https://id.example.gov"})
    oidc = citizen_oidc_from_env(
        {"AGORA_CITIZEN_OIDC_ISSUER": "https://id.example.gov/", "AGORA_CITIZEN_OIDC_CLIENT_ID": "portal",
         "AGORA_CITIZEN_OIDC_SCOPE": "profile national_id"}
    )  # fmt: skip
    assert oidc is not None and oidc.issuer == "https://id.example.gov"
    assert oidc.scope == "openid profile national_id"  # an ID token (and its nonce) is always asked
