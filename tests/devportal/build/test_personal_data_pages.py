"""The portal's pages say which operations return personal data, how the person is identified, on which
legal bases and that access is restricted; the agency's words in it are escaped like any other."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from devportal.build import build_portal
from devportal.build.personal_data import retention_label
from registry.services import apis
from registry.unit_of_work import change, read

pytestmark = pytest.mark.usefixtures("seeded")

X = "x-agora-personal-data"
EVIL_CATEGORY = "<script>alert('category')</script>"
EVIL_TITLE = "[click](javascript:alert(1)) <img src=x onerror=alert(2)>"
EVIL_HEADER = "X-Person_*id*|<b>"


def _spec() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Entitlements", "version": "1.0.0", "description": "Who gets what."},
        X: {
            "legal-bases": [
                {"id": "public-task", "title": "Public task (GDPR art. 6(1)(e))"},
                {"id": "legal-obligation", "title": EVIL_TITLE, "retention-days": 1000},
            ]
        },
        "paths": {
            "/beneficiaries/{nir}/entitlements": {
                "get": {
                    "operationId": "getEntitlements",
                    "parameters": [
                        {"name": "nir", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    X: {
                        "subject": {"in": "path", "name": "nir"},
                        "categories": ["identity", "family situation"],
                    },
                    "responses": {"200": {"description": "Entitlements"}},
                }
            },
            "/household": {
                "get": {
                    "operationId": "getHousehold",
                    "parameters": [{"name": EVIL_HEADER, "in": "header", "schema": {"type": "string"}}],
                    X: {"subject": {"in": "header", "name": EVIL_HEADER}, "categories": [EVIL_CATEGORY]},
                    "responses": {"200": {"description": "Household"}},
                }
            },
            "/me": {
                "get": {
                    "operationId": "me",
                    X: {"subject": {"in": "jwt-claim", "name": "national_id"}, "categories": ["identity"]},
                    # The claim is read from the token this plugin verifies (publication requires it).
                    "x-agora-plugins": {"jwt": {"issuers": [{"issuer": "https://id.example.gov"}]}},
                    "responses": {"200": {"description": "Me"}},
                }
            },
            "/offices": {"get": {"operationId": "offices", "responses": {"200": {"description": "Offices"}}}},
        },
    }


def _text(page: str) -> str:
    """The page's text as a reader sees it: inline tags dropped, others a space, entities decoded."""
    inline = re.sub(r"</?(?:strong|em|code|a|span)\b[^>]*>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


@pytest.fixture
def site(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> Path:
    with change(sessions) as session:
        apis.publish(
            session,
            agency_slug="cadastre",
            spec=json.dumps(_spec()),
            upstream=None,
            api_slug="entitlements",
            actor="t",
        )
    with read(sessions) as session:
        built = build_portal(
            session, out=tmp_path, gateway_url=settings.gateway_url, portal_url=settings.portal_url
        )
    return built.site


def test_the_api_page_has_a_personal_data_section(site: Path) -> None:
    html = (site / "cadastre" / "entitlements" / "index.html").read_text()
    assert 'id="personal-data"' in html
    text = _text(html)
    assert f"This API returns data about people: {EVIL_CATEGORY}, family situation, identity." in text
    assert "Its access is restricted: National Cadastre and Address Office approves each application" in text
    assert "for what purpose it reads the data and on which of these legal bases" in text
    assert "Public task (GDPR art. 6(1)(e)) public-task 1825 days (5 years)" in text
    assert f"{EVIL_TITLE} legal-obligation 1000 days" in text
    assert "GET /beneficiaries/{nir}/entitlements: identity, family situation" in text
    assert "GET /offices" not in text  # only operations returning personal data are listed


def test_each_declaring_operation_says_what_it_returns_and_who_is_identified(site: Path) -> None:
    html = (site / "cadastre" / "entitlements" / "1.0.0" / "index.html").read_text()
    text = _text(html)
    assert (
        "This operation returns personal data: identity, family situation. The person is identified by "
        "the path parameter nir. Every call is recorded and shown to that person."
    ) in text
    assert "<code>nir</code>" in html
    assert (
        "The person is identified by the claim national_id of the access token your application sends."
        in text
    )
    assert (
        f"returns personal data: {EVIL_CATEGORY}. The person is identified by the header {EVIL_HEADER}."
        in text
    )
    assert text.count("Every call is recorded and shown to that person.") == 3  # not on GET /offices
    assert f"Personal data {EVIL_CATEGORY}, family situation, identity (legal bases)" in text  # overview
    assert "its purpose, and the legal basis it reads personal data on" in text


def test_the_agency_text_in_it_is_escaped(site: Path) -> None:
    for page in (site / "cadastre" / "entitlements").rglob("*.html"):
        source = page.read_text()
        assert "<script>alert('category')" not in source, page
        assert "javascript:alert" not in source.replace("[click](javascript:alert(1))", ""), page
        assert "<img src=x" not in source and "<b>" not in source, page


def test_an_api_without_personal_data_says_nothing_of_it(site: Path) -> None:
    html = (site / "commerce" / "companies" / "index.html").read_text()
    assert 'id="personal-data"' not in html and "Personal data" not in html
    version = (site / "commerce" / "companies" / "1.0.0" / "index.html").read_text()
    assert "Every call is recorded" not in version and "Personal data" not in version


def test_retention_is_said_in_days_and_whole_years() -> None:
    assert retention_label(1825) == "1825 days (5 years)"
    assert retention_label(365) == "365 days (1 year)"
    assert retention_label(1000) == "1000 days"
    assert retention_label(1) == "1 day"
