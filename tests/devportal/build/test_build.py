"""`build_portal` on the example registry: the pages, downloads and console; incremental rebuilds;
agency text escaped; nothing loaded from a CDN."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from devportal.build import BuildResult, build_portal
from examples.catalog import by_api_slug
from registry.models import AccessLevel
from registry.services import apis
from registry.unit_of_work import change, read

pytestmark = pytest.mark.usefixtures("seeded")


def _build(sessions: sessionmaker[Session], settings: Settings, out: Path) -> BuildResult:
    with read(sessions) as session:
        return build_portal(
            session, out=out, gateway_url=settings.gateway_url, portal_url=settings.portal_url
        )


def test_pages_of_the_catalogue(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    site = _build(sessions, settings, tmp_path).site
    home = (site / "index.html").read_text()
    assert 'id="catalogue-filters"' in home and 'data-access="restricted"' in home
    assert (site / "cadastre" / "index.html").exists()
    agency = (site / "meteo" / "index.html").read_text()
    assert "api@meteo.example.gov" in agency and "Weather warnings" in agency
    version = (site / "commerce" / "companies" / "1.0.0" / "index.html").read_text()
    for section in (
        "Getting access",
        "Authentication",
        "Plans and rate limits",
        "Status",
        "Changelog",
        "Spec findings",
        "Operations",
    ):
        assert f">{section}<" in version, section
    assert "YOUR_API_KEY" in version and "http://127.0.0.1:8000/commerce/companies/v1/" in version
    assert "Python (httpx)" in version and "JavaScript (fetch)" in version and ">httpx<" in version
    assert (site / "commerce" / "companies" / "changelog" / "index.html").exists()
    assert (site / "plugins" / "index.html").exists() and (site / "search" / "search_index.json").exists()


def test_spec_downloads_and_console(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    base = _build(sessions, settings, tmp_path).site / "meteo" / "warnings" / "1.0.0"
    as_json = json.loads((base / "openapi.json").read_text())
    assert as_json == yaml.safe_load((base / "openapi.yaml").read_text())
    # The agency's document, pointing at the gateway rather than the agency's upstream.
    original = yaml.safe_load(by_api_slug("warnings").spec_text())
    assert as_json["servers"] == [
        {"url": "http://127.0.0.1:8000/meteo/warnings/v1", "description": "The platform's gateway"}
    ]
    assert {k: v for k, v in as_json.items() if k != "servers"} == {
        k: v for k, v in original.items() if k != "servers"
    }
    console = json.loads((base / "console-openapi.json").read_text())
    assert console["servers"] == [
        {"url": "/gateway/meteo/warnings/v1", "description": "The gateway, through the portal"},
        {"url": "http://127.0.0.1:8000/meteo/warnings/v1", "description": "The gateway, directly"},
    ]
    assert console["components"]["securitySchemes"]["agoraApiKey"]["name"] == "apikey"
    page = (base / "console.html").read_text()
    assert 'src="../../../assets/vendor/swagger-ui/swagger-ui-bundle.js"' in page
    assert (base.parents[2] / "assets" / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").exists()


def test_nothing_comes_from_a_cdn(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    site = _build(sessions, settings, tmp_path).site
    for page in site.rglob("*.html"):
        text = page.read_text()
        for host in ("fonts.googleapis", "fonts.gstatic", "cdn.", "unpkg.com", "jsdelivr"):
            assert host not in text, (page, host)


def test_rebuild_touches_only_what_changed(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    first = _build(sessions, settings, tmp_path)
    assert first.html_rebuilt and first.sync.written
    again = _build(sessions, settings, tmp_path)
    assert again.sync.written == [] and not again.html_rebuilt
    with change(sessions) as session:
        row = apis.get_version(session, "commerce", "companies", "1.0.0")
        apis.deprecate(session, row, sunset=date.today() + timedelta(days=90), actor="t")
    third = _build(sessions, settings, tmp_path)
    # The version page and its API's pages (status column, nav) change; other agencies' pages do not.
    assert "commerce/companies/1.0.0/index.md" in third.sync.written
    assert not [p for p in third.sync.written if p.startswith(("meteo/", "cadastre/"))]
    assert third.html_rebuilt
    page = (third.site / "commerce" / "companies" / "1.0.0" / "index.html").read_text()
    assert "Deprecated" in page and "sunset date" in page


def test_successor_is_linked_from_the_deprecated_major(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    spec = yaml.safe_load(by_api_slug("companies").spec_text())
    spec["info"]["version"] = "2.0.0"
    with change(sessions) as session:
        apis.publish(
            session,
            agency_slug="commerce",
            spec=yaml.safe_dump(spec),
            upstream=None,
            api_slug="companies",
            actor="t",
        )
        apis.deprecate(
            session, apis.get_version(session, "commerce", "companies", "1.0.0"), sunset=None, actor="t"
        )
    page = (
        _build(sessions, settings, tmp_path).site / "commerce" / "companies" / "1.0.0" / "index.html"
    ).read_text()
    assert 'href="../2.0.0/"' in page


def test_agency_text_is_escaped(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    spec = yaml.safe_load(by_api_slug("addresses").spec_text())
    spec["info"]["title"] = "Evil <script>alert('title')</script>"
    spec["info"]["description"] = "[click](javascript:alert(1)) <img src=x onerror=alert(2)> {: onclick=x}"
    first_path = next(iter(spec["paths"].values()))
    first_op = next(iter(first_path.values()))
    first_op["summary"] = "<b onmouseover=alert(3)>hi</b>"
    with change(sessions) as session:
        apis.publish(
            session,
            agency_slug="cadastre",
            spec=yaml.safe_dump(spec),
            upstream=None,
            api_slug="evil",
            access_level=AccessLevel.OPEN,
            actor="t",
        )
    site = _build(sessions, settings, tmp_path).site
    for page in (site / "cadastre").rglob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "javascript:alert" not in text.replace(
            "[click](javascript:", ""
        )
        assert "onerror=alert" not in text.replace("&lt;img src=x onerror=alert(2)&gt;", "")
        assert "<b onmouseover" not in text and 'onclick="x"' not in text
    nav = (site / "index.html").read_text()
    assert "Evil &lt;script&gt;" in nav


def test_every_page_kind_shares_the_service_header_and_footer(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    site = _build(sessions, settings, tmp_path).site
    pages = [
        "index.html",
        "meteo/index.html",
        "commerce/companies/index.html",
        "commerce/companies/1.0.0/index.html",
        "commerce/companies/1.0.0/console.html",
        "accessibility/index.html",
        "legal/index.html",
    ]
    for path in pages:
        html = (site / path).read_text()
        assert html.count("<header") == 1 and html.count("data-service-header") == 1, path
        assert html.count("<footer") == 1 and "data-service-footer" in html, path
        assert "Made with" not in html and 'href="/accessibility/"' in html, path
        assert "account-state.js" in html, path
    home = (site / "index.html").read_text()
    # Cards with the agency, the access level, tags and the description's first paragraph (Markdown).
    assert home.count('class="portal-card"') == 4 and "Restricted access" in home
    version = (site / "commerce" / "companies" / "1.0.0" / "index.html").read_text()
    assert "Register number, <code>RC</code> and six digits" in version  # Markdown in a parameter
    assert 'class="md-path"' in version  # breadcrumbs
    assert "subscribing is not needed to call it" in version and "agency approval" in version
    statement = (site / "accessibility" / "index.html").read_text()
    assert "WCAG" in statement and "axe-core" in statement and "Partially compliant" in statement
    assert "--portal-primary" in (site / "assets" / "portal" / "identity.css").read_text()
