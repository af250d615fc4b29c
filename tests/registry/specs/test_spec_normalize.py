"""normalize: Swagger 2.0 and OpenAPI 3.x describing one API come out the same."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agora.errors import SpecInvalid
from registry.specs import normalize

ADDRESS = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string", "format": "uuid"}, "street": {"type": "string"}},
}

SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Addresses", "version": "1.2.0", "x-agora-owner": "registry"},
    "host": "api.example.org",
    "basePath": "/v1",
    "schemes": ["https"],
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
    "security": [{"key": []}],
    "x-agora-rate-limit": 10,
    "parameters": {"Id": {"name": "id", "in": "path", "required": True, "type": "string"}},
    "definitions": {"Address": ADDRESS},
    "paths": {
        "/addresses": {
            "get": {
                "operationId": "listAddresses",
                "parameters": [
                    {"name": "limit", "in": "query", "type": "integer", "minimum": 1},
                    {"name": "X-Trace", "in": "header", "type": "string", "required": True},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Address"}},
                        "examples": {"application/json": [{"id": "a1"}]},
                    }
                },
            },
            "post": {
                "security": [],
                "parameters": [
                    {
                        "name": "body",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/Address"},
                    }
                ],
                "responses": {"201": {"description": "created"}, "400": {"description": "bad"}},
            },
        },
        "/addresses/{id}": {
            "parameters": [{"$ref": "#/parameters/Id"}],
            "x-agora-cache": 60,
            "get": {
                "x-agora-cache": 5,
                "responses": {"200": {"description": "one", "schema": {"$ref": "#/definitions/Address"}}},
            },
        },
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Addresses", "version": "1.2.0"},
    "servers": [{"url": "https://api.example.org/{stage}", "variables": {"stage": {"default": "v1"}}}],
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        "schemas": {"Address": ADDRESS},
        "parameters": {"Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}},
    },
    "security": [{"key": []}],
    "paths": {
        "/addresses": {
            "get": {
                "operationId": "listAddresses",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Address"},
                                },
                                "examples": {"one": {"value": [{"id": "a1"}]}},
                            }
                        },
                    }
                },
            },
            "post": {
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Address"}}},
                },
                "responses": {"201": {"description": "created"}, "400": {"description": "bad"}},
            },
        },
        "/addresses/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "responses": {
                    "200": {
                        "description": "one",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Address"}}},
                    }
                }
            },
        },
    },
}


def _shape(normalized: dict[str, Any]) -> list[Any]:
    return [
        (
            op["method"],
            op["path"],
            op["operation_id"],
            [(p["name"], p["in"], p["required"], p["schema"].get("type")) for p in op["parameters"]],
            op["request_body"] and (op["request_body"]["required"], op["request_body"]["content"]),
            {code: r["content"] for code, r in op["responses"].items()},
            op["security"],
        )
        for op in normalized["operations"]
    ]


def test_swagger_and_openapi_describing_one_api_normalize_alike() -> None:
    swagger, openapi = normalize(SWAGGER), normalize(OPENAPI)
    assert _shape(swagger) == _shape(openapi)
    for key in ("title", "version", "base_path", "servers", "security_schemes", "security"):
        assert swagger[key] == openapi[key], key
    assert swagger["kind"] == "swagger-2.0" and openapi["kind"] == "openapi-3.0"


def test_normalized_operation_fields() -> None:
    normalized = normalize(SWAGGER)
    assert normalized["base_path"] == "/v1"
    assert normalized["servers"] == ["https://api.example.org/v1"]
    assert [(op["method"], op["path"]) for op in normalized["operations"]] == [
        ("GET", "/addresses"),
        ("POST", "/addresses"),
        ("GET", "/addresses/{id}"),
    ]
    listing, create, one = normalized["operations"]
    assert listing["responses"]["200"]["content"]["application/json"]["example"] == [{"id": "a1"}]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["items"] == ADDRESS
    assert listing["parameters"][0]["schema"] == {"type": "integer", "minimum": 1}
    assert create["operation_id"] == "post_addresses"
    assert create["security"] == []  # an explicit empty list switches authentication off
    assert listing["security"] == [{"key": []}]
    assert one["operation_id"] == "get_addresses_id"
    assert one["parameters"] == [
        {"name": "id", "in": "path", "required": True, "description": "", "schema": {"type": "string"}}
    ]
    # x-agora-* from document, path and operation level; the operation wins.
    assert one["extensions"] == {"x-agora-cache": 5, "x-agora-rate-limit": 10}
    assert normalized["security_schemes"]["key"]["type"] == "apiKey"


def test_swagger_form_data_becomes_a_form_request_body() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "Upload", "version": "1"},
        "paths": {
            "/files": {
                "post": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "file", "in": "formData", "type": "file", "required": True},
                        {"name": "note", "in": "formData", "type": "string"},
                    ],
                    "responses": {"204": {"description": "stored"}},
                }
            }
        },
    }
    (op,) = normalize(doc)["operations"]
    assert op["parameters"] == []
    assert op["request_body"] == {
        "required": True,
        "description": "",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "file"}, "note": {"type": "string"}},
                    "required": ["file"],
                },
                "example": None,
            }
        },
    }


def test_recursive_schema_stops_at_a_ref_marker() -> None:
    node = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
    }
    doc = {
        "swagger": "2.0",
        "info": {"title": "Tree", "version": "1"},
        "definitions": {"Node": node},
        "paths": {
            "/tree": {
                "get": {"responses": {"200": {"description": "", "schema": {"$ref": "#/definitions/Node"}}}}
            }
        },
    }
    (op,) = normalize(doc)["operations"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["children"]["items"] == {"$ref": "#/definitions/Node"}
    json.dumps(schema)


def test_duplicate_operation_ids_are_made_unique() -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Dup", "version": "1"},
        "paths": {
            "/a": {"get": {"operationId": "read", "responses": {}}},
            "/b": {"get": {"operationId": "read", "responses": {}}},
        },
    }
    assert [op["operation_id"] for op in normalize(doc)["operations"]] == ["read", "read_2"]


def test_malformed_fields_are_read_as_empty() -> None:
    doc = {
        "openapi": "3.0.0",
        "info": "not a mapping",
        "paths": {"/a": {"get": {"parameters": "oops", "responses": ["no"], "tags": [1, "t"]}}, "/b": None},
    }
    normalized = normalize(doc)
    assert normalized["title"] == ""
    (op,) = normalized["operations"]
    assert (op["parameters"], op["responses"], op["tags"]) == ([], {}, ["t"])


def test_unknown_version_is_spec_invalid() -> None:
    with pytest.raises(SpecInvalid) as caught:
        normalize({"openapi": "4.0.0", "paths": {}})
    assert caught.value.findings[0].location == "/openapi"
