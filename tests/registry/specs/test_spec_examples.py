"""sandbox_response: the spec's example first, a value generated from the schema otherwise."""

from __future__ import annotations

from typing import Any

from registry.specs import normalize, sandbox_response, schema_example


def _operation(responses: dict[str, Any]) -> dict[str, Any]:
    return {"method": "GET", "path": "/a", "responses": responses}


def _json(schema: Any, example: Any = None) -> dict[str, Any]:
    return {"description": "", "content": {"application/json": {"schema": schema, "example": example}}}


def test_the_media_type_example_is_preferred() -> None:
    op = _operation(
        {"200": _json({"type": "object", "properties": {"id": {"type": "string"}}}, {"id": "A-1"})}
    )
    assert sandbox_response(op) == {"status": 200, "content_type": "application/json", "body": {"id": "A-1"}}


def test_openapi_examples_and_swagger_examples_reach_the_sandbox() -> None:
    openapi = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "201": {
                            "description": "",
                            "content": {"application/json": {"examples": {"first": {"value": {"n": 1}}}}},
                        }
                    }
                }
            }
        },
    }
    swagger = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "produces": ["application/json"],
                    "responses": {
                        "201": {
                            "description": "",
                            "schema": {"type": "object"},
                            "examples": {"application/json": {"n": 1}},
                        }
                    },
                }
            }
        },
    }
    expected = {"status": 201, "content_type": "application/json", "body": {"n": 1}}
    assert sandbox_response(normalize(openapi)["operations"][0]) == expected
    assert sandbox_response(normalize(swagger)["operations"][0]) == expected


def test_body_is_generated_from_the_schema_when_there_is_no_example() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "born": {"type": "string", "format": "date"},
            "seen": {"type": "string", "format": "date-time"},
            "email": {"type": "string", "format": "email"},
            "status": {"type": "string", "enum": ["active", "closed"]},
            "age": {"type": "integer", "minimum": 18},
            "score": {"type": "number", "minimum": 0.5},
            "tags": {"type": "array", "items": {"type": "string"}},
            "city": {"type": "string", "example": "Lyon"},
            "ok": {"type": "boolean"},
        },
    }
    response = sandbox_response(_operation({"404": _json({}), "200": _json(schema)}))
    assert response["status"] == 200
    assert response["body"] == {
        "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "born": "2024-01-31",
        "seen": "2024-01-31T12:00:00Z",
        "email": "user@example.org",
        "status": "active",
        "age": 18,
        "score": 0.5,
        "tags": ["string"],
        "city": "Lyon",
        "ok": True,
    }


def test_schema_level_example_wins_over_generation() -> None:
    schema = {"type": "array", "items": {"type": "string"}, "example": ["a", "b"]}
    assert sandbox_response(_operation({"200": _json(schema)}))["body"] == ["a", "b"]


def test_no_content_gives_a_null_body() -> None:
    op = _operation({"204": {"description": "gone", "content": {}}, "400": _json({"type": "string"})})
    assert sandbox_response(op) == {"status": 204, "content_type": None, "body": None}
    assert sandbox_response(_operation({})) == {"status": 200, "content_type": None, "body": None}


def test_json_is_preferred_among_media_types() -> None:
    response = {
        "description": "",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": None},
            "application/geo+json": {"schema": {"type": "object"}, "example": None},
        },
    }
    assert sandbox_response(_operation({"200": response}))["content_type"] == "application/geo+json"


def test_generation_is_depth_limited_and_stops_at_recursion_markers() -> None:
    node: dict[str, Any] = {"type": "object", "properties": {}}
    cursor = node
    for _ in range(30):
        child: dict[str, Any] = {"type": "object", "properties": {}}
        cursor["properties"]["child"] = child
        cursor = child
    value = schema_example(node)
    depth = 0
    while isinstance(value, dict) and "child" in value:
        value, depth = value["child"], depth + 1
    assert depth < 30
    assert schema_example({"type": "object", "properties": {"next": {"$ref": "#/definitions/Node"}}}) == {
        "next": None
    }


def test_combinators_and_nullable_types() -> None:
    assert schema_example(
        {"allOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {"type": "boolean"}}}]}
    ) == {
        "a": 0,
        "b": True,
    }
    assert (
        schema_example({"oneOf": [{"type": "string", "format": "date"}, {"type": "integer"}]}) == "2024-01-31"
    )
    assert schema_example({"type": ["null", "integer"], "exclusiveMinimum": 3}) == 4
