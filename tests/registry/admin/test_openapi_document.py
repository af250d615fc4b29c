"""The admin API's OpenAPI document and its routes stay in step, both ways."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from starlette.routing import Route

from registry.admin.app import ROUTES
from registry.admin.context import openapi_document


def _routes() -> set[tuple[str, str]]:
    found = set()
    for route in ROUTES:
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # "{grant_id:int}" is "{grant_id}" in OpenAPI
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, path))
    return found


def _documented() -> set[tuple[str, str]]:
    doc = openapi_document()
    methods = {"get", "post", "put", "patch", "delete"}
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in methods}


def test_document_is_valid_openapi_3_1() -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_route_is_documented_and_every_documented_operation_exists() -> None:
    assert _routes() - _documented() == set(), "routes missing from openapi.yaml"
    assert _documented() - _routes() == set(), "documented operations with no route"


def test_served_document_is_the_same(world: object) -> None:
    from tests.registry.admin.conftest import World

    assert isinstance(world, World)
    response = world.client.get("/admin/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()
