"""Access to an API with personal data (issue 16): the form asks a purpose and one of the API's legal
bases, every error at once in the GOV.UK pattern with what was typed kept; the agency console shows
them, with the organisation the application acts for; the application's organisation is set in the
portal and cannot change under a request for personal data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from examples.portal_seed import DEMO_AGENCY_ADMIN
from registry.models import AccessGrant, Api, Application, GrantState
from registry.services import purposes
from registry.specs.personal_data import LegalBasis
from registry.unit_of_work import change
from tests.devportal.helpers import create_app, csrf, sign_in, sign_up
from tests.registry import factories

JUSTIFICATION = "Housing benefit checks for the municipal social service"
PURPOSE = "Checking the family situation of a tenant who asks for a housing benefit"
API = "meteo/family"  # under meteo, whose admin the seed signs in as


@pytest.fixture
def family(sessions: sessionmaker[Session], seeded: dict[str, str]) -> None:
    with change(sessions) as session:
        factories.personal_data_api(session, "meteo")


def _summary_links(page: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary, page
    return re.findall(r'<a href="#([^"]+)">', summary.group(0))


def _ask(client: TestClient, app_id: str, api: str = API, **fields: str) -> tuple[int, str]:
    data = {
        "csrf_token": csrf(client, "/account/access"),
        "api": api,
        "application": app_id,
        "plan": "meteo-partners",
        "justification": JUSTIFICATION,
        **fields,
    }
    answer = client.post("/account/access", data=data)
    return answer.status_code, answer.text


def _grants(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AccessGrant)) or 0)


def test_the_form_asks_a_purpose_and_a_legal_basis_only_for_personal_data(
    client: TestClient, outbox: Path, family: None
) -> None:
    sign_up(client, outbox, "dev@example.org")
    create_app(client, "housing")
    page = client.get(f"/account/access?api={API}").text
    assert "<legend>Personal data</legend>" in page
    assert '<label for="purpose">' in page and '<textarea id="purpose" name="purpose"' in page
    assert '<label for="legal_basis">Legal basis</label>' in page
    options = re.findall(r'<option value="([^"]*)"\s*>([^<]+)</option>', page.split('id="legal_basis"')[1])
    assert options[:3] == [
        ("", "Choose a legal basis"),
        ("public-task", "Public task (GDPR art. 6(1)(e)) (public-task)"),
        ("legal-obligation", "Legal obligation (GDPR art. 6(1)(c)) (legal-obligation)"),
    ]
    other = client.get("/account/access?api=meteo/warnings").text
    assert 'id="purpose"' not in other and 'id="legal_basis"' not in other


def test_every_error_at_once_and_what_was_typed_is_kept(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session], family: None
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "housing")
    before = _grants(sessions)
    status, page = _ask(client, app_id, justification="short", purpose="", legal_basis="")
    assert status == 422 and "<title>Error: Access to APIs" in page
    assert _summary_links(page) == ["justification", "purpose", "legal_basis"]  # in field order
    assert "Family records returns personal data: say for what purpose your application reads it" in page
    assert (
        "Choose the legal basis of the access to Family records: one of public-task, legal-obligation" in page
    )
    assert 'id="purpose-error"' in page and 'aria-describedby="purpose-error purpose-hint"' in page
    assert 'id="legal_basis-error"' in page

    status, page = _ask(client, app_id, purpose=PURPOSE, legal_basis="consent")
    assert status == 422 and _summary_links(page) == ["legal_basis"]
    assert "declares no legal basis &#39;consent&#39;" in page
    assert f">{PURPOSE}</textarea>" in page  # kept as typed
    status, page = _ask(client, app_id, purpose="", legal_basis="legal-obligation")
    assert status == 422 and _summary_links(page) == ["purpose"]
    assert 'value="legal-obligation" selected' in page
    status, page = _ask(client, app_id, purpose="p" * 2001, legal_basis="public-task")
    assert status == 422 and "The purpose has 2000 characters at most (2001 given)" in page
    assert _grants(sessions) == before

    status, page = _ask(client, app_id, purpose=PURPOSE, legal_basis="legal-obligation")
    assert status == 200 and f"Access to {API} requested" in page
    with sessions() as session:
        grant = session.scalar(select(AccessGrant).where(AccessGrant.application_id == app_id))
        assert grant is not None and grant.state is GrantState.PENDING
        assert (grant.purpose, grant.legal_basis) == (PURPOSE, "legal-obligation")


def test_a_legal_basis_for_an_api_without_personal_data_is_an_error_of_the_form(
    client: TestClient, outbox: Path, family: None
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "alerts")
    status, page = _ask(client, app_id, api="meteo/warnings", legal_basis="public-task")
    assert status == 422 and _summary_links(page) == []  # no field to link to on this page
    assert "returns no personal data: a legal basis is only chosen for an API that does" in page


def test_a_request_reads_what_the_api_declares_once(
    client: TestClient,
    outbox: Path,
    sessions: sessionmaker[Session],
    family: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The form's check, the self-service and the grants service judge the same request: the first
    passes its result down instead of each reading the API's versions and parsing their specs again."""
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "housing")
    reads: list[str] = []
    declared = purposes.declared_legal_bases

    def counted(api: Api) -> tuple[LegalBasis, ...] | None:
        reads.append(api.slug)
        return declared(api)

    monkeypatch.setattr(purposes, "declared_legal_bases", counted)
    before = _grants(sessions)
    data = {
        "csrf_token": csrf(client, "/account/access"),
        "api": API,
        "application": app_id,
        "plan": "meteo-partners",
        "justification": JUSTIFICATION,
        "purpose": PURPOSE,
        "legal_basis": "public-task",
    }
    answer = client.post("/account/access", data=data, follow_redirects=False)
    assert answer.status_code == 303 and reads == ["family"]
    assert _grants(sessions) == before + 1


def test_the_agency_sees_the_purpose_the_legal_basis_and_the_organisation(
    client: TestClient, outbox: Path, seeded: dict[str, str], family: None
) -> None:
    sign_up(client, outbox, "dev@example.org")
    token = csrf(client, "/account/apps")
    created = client.post(
        "/account/apps", data={"csrf_token": token, "name": "housing", "organisation": "Acme Housing Ltd"}
    )
    assert created.status_code == 200 and "Acts for Acme Housing Ltd." in created.text
    app_id = created.url.path.rsplit("/", 1)[1]
    assert _ask(client, app_id, purpose=PURPOSE, legal_basis="public-task")[0] == 200
    assert _ask(client, app_id, api="meteo/warnings")[0] == 200  # a request without personal data

    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    sign_in(client, DEMO_AGENCY_ADMIN, seeded["meteo_admin_portal_password"])
    console = client.get("/agency-console/meteo/").text
    request = console.split("asks for meteo/family")[1].split("</section>")[0]
    assert "Organisation: Acme Housing Ltd." in request
    assert f"<dd>{PURPOSE}</dd>" in request
    assert "<dd>Public task (GDPR art. 6(1)(e)) (public-task)</dd>" in request
    warnings = console.split("asks for meteo/warnings")[1].split("</section>")[0]
    assert "Organisation: Acme Housing Ltd." in warnings and "<dl" not in warnings


def test_the_organisation_is_set_in_the_portal_and_held_while_personal_data_is_asked_for(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session], family: None
) -> None:
    sign_up(client, outbox, "dev@example.org")
    token = csrf(client, "/account/apps")
    long = client.post("/account/apps", data={"csrf_token": token, "name": "kept", "organisation": "o" * 201})
    assert long.status_code == 422 and _summary_links(long.text) == ["app-organisation"]
    assert "Enter an organisation name of 200 characters or fewer" in long.text
    assert 'value="kept"' in long.text
    app_id = create_app(client, "housing")
    page = client.get(f"/account/apps/{app_id}").text
    assert '<label for="organisation">Organisation it acts for</label>' in page
    saved = client.post(
        f"/account/apps/{app_id}/organisation", data={"csrf_token": token, "organisation": "Acme Housing Ltd"}
    )
    assert saved.status_code == 200 and "Acme Housing Ltd set as the organisation." in saved.text
    assert _ask(client, app_id, purpose=PURPOSE, legal_basis="public-task")[0] == 200
    held = client.post(
        f"/account/apps/{app_id}/organisation",
        data={"csrf_token": token, "organisation": "Ministry of Housing"},
    )
    assert held.status_code == 422 and _summary_links(held.text) == ["organisation"]
    assert "asks for access to personal data from Family records as Acme Housing Ltd" in held.text
    assert 'value="Ministry of Housing"' in held.text and 'value="housing"' in held.text  # both forms
    with sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None and app.organisation == "Acme Housing Ltd"
