"""Security headers on every answer; HTML error pages for browsers, problem+json for JSON clients."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from devportal.web.headers import content_security_policy


def test_every_answer_carries_the_security_headers(client: TestClient, tmp_path: Path) -> None:
    for path in ("/account/signup", "/account/static/account.css", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["x-frame-options"] == "DENY"


def test_policy_allows_the_gateway_for_the_console_and_listed_inline_scripts() -> None:
    csp = content_security_policy(
        ["'sha256-abc='"], gateway_url="http://127.0.0.1:8000/", oidc_issuer="http://127.0.0.1:9000/oidc"
    )
    assert "script-src 'self' 'sha256-abc='" in csp
    assert "connect-src 'self' http://127.0.0.1:8000" in csp
    assert "form-action 'self' http://127.0.0.1:9000" in csp


def test_browser_errors_are_pages_and_json_errors_are_problems(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><title>x</title>")
    missing = client.get("/no-such-page", headers={"accept": "text/html"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "There is no page at this address" in missing.text
    problem = client.get("/account/api/nothing-here")
    assert problem.status_code == 404 and problem.headers["content-type"] == "application/problem+json"


def test_site_not_built_yet_says_so(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 503 and "being built" in response.text


def test_spec_downloads_are_served_with_their_media_types(client: TestClient, tmp_path: Path) -> None:
    version = tmp_path / "site" / "meteo" / "warnings" / "1.0.0"
    version.mkdir(parents=True)
    (version / "openapi.yaml").write_text("openapi: 3.1.0\n")
    (version / "openapi.json").write_text("{}")
    assert client.get("/meteo/warnings/1.0.0/openapi.yaml").headers["content-type"] == "application/yaml"
    assert client.get("/meteo/warnings/1.0.0/openapi.json").headers["content-type"] == "application/json"
