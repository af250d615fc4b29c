"""The example specs: valid, consistent with the catalog, and true to what the services answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Route
from starlette.testclient import TestClient

from examples.catalog import EXAMPLES, by_api_slug
from examples.upstreams.serve import build_app
from tests.examples.spec_checks import Spec, load_spec

SLUGS = [example.api_slug for example in EXAMPLES]
# Their answers depend on earlier writes, so their examples show a state a fresh app does not have.
STATEFUL = {"listFilings", "getFiling"}


@pytest.mark.parametrize("api_slug", SLUGS)
def test_spec_validates(api_slug: str) -> None:
    validate_spec(yaml.safe_load(by_api_slug(api_slug).spec_text()))


@pytest.mark.parametrize("api_slug", SLUGS)
def test_info_agrees_with_catalog(api_slug: str) -> None:
    example, raw = by_api_slug(api_slug), load_spec(api_slug).raw
    # The personal-data example shows a 3.1 spec (JSON Schema 2020-12); the others are 3.0.
    assert raw["openapi"] == ("3.1.0" if example.api_slug == "entitlements" else "3.0.3")
    assert raw["info"]["title"] == example.title
    assert raw["info"]["version"] == "1.0.0"
    assert raw["info"]["description"].strip()
    assert raw["info"]["contact"] == {
        "name": example.agency.name,
        "email": example.agency.contact_email,
        "url": example.agency.website,
    }
    # The gateway decides where the API lives; an absolute server URL here would leak the upstream.
    assert all(not server["url"].startswith(("http:", "https:")) for server in raw.get("servers", []))


@pytest.mark.parametrize("api_slug", SLUGS)
def test_security_follows_access_level(api_slug: str) -> None:
    example, raw = by_api_slug(api_slug), load_spec(api_slug).raw
    if example.access == "open":
        assert "security" not in raw
        assert "securitySchemes" not in raw.get("components", {})
        return
    assert raw["components"]["securitySchemes"]["apikey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "apikey",
        "description": raw["components"]["securitySchemes"]["apikey"]["description"],
    }
    assert raw["security"] == [{"apikey": []}]
    assert raw["paths"]["/health"]["get"]["security"] == [], "health checks must not need a key"


@pytest.mark.parametrize("api_slug", SLUGS)
def test_operations_have_ids_and_valid_examples(api_slug: str) -> None:
    spec = load_spec(api_slug)
    ids = [operation["operationId"] for _, _, operation in spec.operations()]
    assert len(ids) == len(set(ids))
    for method, template, operation in spec.operations():
        for parameter in spec.parameters(method, template):
            if "example" in parameter:
                spec.validate(parameter["example"], parameter["schema"])
        for media in operation.get("requestBody", {}).get("content", {}).values():
            if "example" in media:
                spec.validate(media["example"], media["schema"])
        for status, response in operation["responses"].items():
            for content_type, media in response.get("content", {}).items():
                if content_type.endswith("json"):
                    # The sandbox answers from these examples, so each JSON response needs one.
                    assert "example" in media, f"{operation['operationId']} {status} has no example"
                    spec.validate(media["example"], media["schema"])


@pytest.mark.parametrize("api_slug", SLUGS)
def test_routes_are_the_specified_operations(api_slug: str) -> None:
    served = {
        (method, route.path)
        for route in build_app(api_slug).routes
        if isinstance(route, Route)
        for method in (route.methods or set())
        if method != "HEAD"
    }
    specified = {(method, template) for method, template, _ in load_spec(api_slug).operations()}
    assert served == specified


def _example_url(spec: Spec, method: str, template: str) -> str:
    path, query = template, {}
    for parameter in spec.parameters(method, template):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        elif parameter["in"] == "query" and "example" in parameter:
            query[parameter["name"]] = parameter["example"]
    return f"{path}?{urlencode(query)}" if query else path


@pytest.mark.parametrize("api_slug", SLUGS)
def test_get_examples_are_what_the_service_answers(api_slug: str) -> None:
    """Called with the parameter examples, the service answers exactly the 200 example: sandbox = real."""
    spec, client = load_spec(api_slug), TestClient(build_app(api_slug))
    checked: list[str] = []
    for method, template, operation in spec.operations():
        ok: dict[str, Any] = (
            operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        )
        if method != "GET" or "example" not in ok or operation["operationId"] in STATEFUL:
            continue
        response = client.get(_example_url(spec, method, template))
        assert response.status_code == 200, response.text
        assert response.json() == ok["example"], operation["operationId"]
        checked.append(operation["operationId"])
    assert "getHealth" in checked and len(checked) >= 4
