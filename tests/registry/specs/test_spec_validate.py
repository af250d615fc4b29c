"""validate_spec / spec_kind on small documents: every finding, located by JSON Pointer."""

from __future__ import annotations

from typing import Any

import pytest

from agora.errors import SpecInvalid
from registry.specs import spec_kind, validate_spec


def _openapi(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths, **extra}


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        ({"swagger": "2.0"}, "swagger-2.0"),
        ({"openapi": "3.0.0"}, "openapi-3.0"),
        ({"openapi": "3.0"}, "openapi-3.0"),
        ({"openapi": "3.1.1"}, "openapi-3.1"),
    ],
)
def test_spec_kind(doc: dict[str, Any], kind: str) -> None:
    assert spec_kind(doc) == kind


@pytest.mark.parametrize(
    ("doc", "location"),
    [
        ({}, "/openapi"),
        ({"openapi": 3.0}, "/openapi"),
        ({"openapi": "2.0"}, "/openapi"),
        ({"swagger": "1.2"}, "/swagger"),
    ],
)
def test_spec_kind_rejects_unknown_versions(doc: dict[str, Any], location: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        spec_kind(doc)
    assert [f.location for f in caught.value.findings] == [location]
    assert validate_spec(doc) == caught.value.findings


def test_valid_document_has_no_findings() -> None:
    ok = {"get": {"responses": {"200": {"description": "ok"}}}}
    assert validate_spec(_openapi({"/a": ok})) == []


def test_every_structural_finding_is_reported_at_its_pointer() -> None:
    doc = _openapi(
        {
            "/a/{id}": {"get": {"responses": {"200": {"description": 5}}}},
            "/b": {"get": {"responses": {"200": {"description": "ok"}}, "summary": ["x"]}},
        }
    )
    found = {(f.location, f.rule) for f in validate_spec(doc)}
    assert ("/paths/~1a~1{id}/get/responses/200/description", "structure") in found
    assert ("/paths/~1b/get/summary", "structure") in found


def test_visitor_findings_are_located() -> None:
    response = {"200": {"description": "ok"}}
    doc = _openapi(
        {
            "/a/{id}": {"get": {"operationId": "same", "responses": response}},
            "/b": {
                "get": {
                    "operationId": "same",
                    "responses": response,
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                    ],
                }
            },
        }
    )
    found = {(f.location, f.rule): f.message for f in validate_spec(doc)}
    assert found == {
        ("/paths/~1a~1{id}/get", "unresolved-path-parameter"): (
            "Path parameter 'id' for 'get' operation in '/a/{id}' was not resolved"
        ),
        ("/paths/~1b/get", "duplicate-operation-id"): "Operation ID 'same' for 'get' in '/b' is not unique",
        ("/paths/~1b/get/parameters", "duplicate-parameter"): "Duplicate parameter 'q'",
        # The OpenAPI 3.0 JSON Schema sees the identical items too.
        ("/paths/~1b/get/parameters", "structure"): found[("/paths/~1b/get/parameters", "structure")],
    }
    assert "non-unique" in found[("/paths/~1b/get/parameters", "structure")]


def test_a_default_reached_through_a_ref_is_located_in_the_component() -> None:
    doc = _openapi(
        {
            "/a": {
                "get": {
                    "parameters": [
                        {"name": "n", "in": "query", "schema": {"$ref": "#/components/schemas/N"}}
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        components={"schemas": {"N": {"type": "integer", "default": "ten"}}},
    )
    (finding,) = validate_spec(doc)
    assert finding.location == "/components/schemas/N/default"
    assert finding.message == "'ten' is not of type 'integer'"
    assert finding.rule == "default"


def test_swagger_parameter_default_is_located_at_the_parameter() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "parameters": [
                        {
                            "name": "ids",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                            "default": "",
                        }
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    (finding,) = validate_spec(doc)
    assert (finding.location, finding.message) == (
        "/paths/~1a/get/parameters/0/default",
        "'' is not of type 'array'",
    )


def test_findings_are_deduplicated_and_sorted() -> None:
    schema = {"$ref": "#/components/schemas/Bad"}
    ok = {"description": "ok", "content": {"application/json": {"schema": schema}}}
    doc = _openapi(
        {"/a": {"get": {"responses": {"200": ok}}}, "/b": {"get": {"responses": {"200": ok}}}},
        components={"schemas": {"Bad": {"type": "object", "required": ["x"], "allOf": [{"type": "object"}]}}},
    )
    findings = validate_spec(doc)
    assert [(f.location, f.rule) for f in findings] == [
        ("/components/schemas/Bad", "undefined-required-property")
    ]


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_every_bad_keyword_of_one_schema_is_reported(version: str) -> None:
    """openapi-spec-validator stops at a schema's first dialect error; we report them all."""
    properties = {"a": {"type": "string", "pattern": "\\pL"}, "b": {"type": "string", "pattern": "(x"}}
    doc = {
        "openapi": version,
        "info": {"title": "T", "version": "1"},
        "paths": {},
        "components": {"schemas": {"A": {"type": "object", "properties": properties}}},
    }
    assert [(f.location, f.message, f.rule) for f in validate_spec(doc)] == [
        ("/components/schemas/A/properties/a/pattern", "'\\\\pL' is not a 'regex'", "schema"),
        ("/components/schemas/A/properties/b/pattern", "'(x' is not a 'regex'", "schema"),
    ]
