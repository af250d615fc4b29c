"""The checks on their own: typed parameters from text, locations, media types, both OpenAPI dialects."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from plugins.request_validator.checks import (
    body_violations,
    coerce,
    compile_schema,
    cookies,
    parameter_violations,
)

ITEM = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
ORDER = {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": ITEM}, "id": {"type": "string", "readOnly": True}},
}


def params(*entries: tuple[str, str, bool, dict[str, Any]]) -> list[Any]:
    return [(n, w, r, s, compile_schema(s, "3.0", n)) for n, w, r, s in entries]


def test_coerce_follows_the_schema_type() -> None:
    assert coerce("10", {"type": "integer"}) == 10 and coerce("-3", {"type": "integer"}) == -3
    assert coerce("1.5", {"type": "number"}) == 1.5 and coerce("2", {"type": "number"}) == 2
    assert coerce("true", {"type": "boolean"}) is True and coerce("yes", {"type": "boolean"}) == "yes"
    assert coerce("ten", {"type": "integer"}) == "ten"  # left as text: the validator reports it
    assert coerce("7", {"type": ["integer", "null"]}) == 7 and coerce("7", {}) == "7"


def test_parameters_each_place_and_arrays() -> None:
    spec = params(
        ("id", "path", True, {"type": "integer", "minimum": 1}),
        ("tag", "query", False, {"type": "array", "items": {"type": "integer"}, "maxItems": 2}),
        ("limit", "query", True, {"type": "integer"}),
        ("X-Trace", "header", False, {"type": "string", "pattern": "^[a-f0-9]+$"}),
        ("session", "cookie", True, {"type": "string"}),
    )
    found = {
        "path": {"id": "0"},
        "query": {"tag": ["1", "x", "3"]},
        "header": {"x-trace": "XYZ"},
        "cookie": {},
    }
    assert parameter_violations(spec, found) == [
        {"location": "path.id", "message": "0 is less than the minimum of 1"},
        {"location": "query.tag", "message": "[1, 'x', 3] is too long"},  # typed items, the bad one kept
        {"location": "query.tag", "message": "'x' is not of type 'integer'"},
        {"location": "query.limit", "message": "is required"},
        {"location": "header.X-Trace", "message": "'XYZ' does not match '^[a-f0-9]+$'"},
        {"location": "cookie.session", "message": "is required"},
    ]
    ok = {"path": {"id": "4"}, "query": {"tag": "2", "limit": "5"}, "cookie": {"session": "s"}}
    assert parameter_violations(spec, ok) == []
    twice = {**ok, "query": {"limit": ["1", "2"]}}
    assert parameter_violations(spec, twice) == [
        {"location": "query.limit", "message": "is given 2 times, at most once"}
    ]


def test_json_body_locations_and_write_context() -> None:
    validators = {"application/json": compile_schema(ORDER, "3.0", "body")}
    body = json.dumps({"items": [{"name": "a"}, {"name": ""}, {}], "id": "x"}).encode()
    assert body_violations(body, "application/json; charset=utf-8", True, validators) == [
        {"location": "body/id", "message": "Tried to write read-only property with x"},
        {"location": "body/items/1/name", "message": "'' should be non-empty"},
        {"location": "body/items/2", "message": "'name' is a required property"},
    ]
    assert (
        body_violations(b'{"items": []}', "application/merge-patch+json", True, {"application/*": None}) == []
    )
    assert body_violations(b"", None, False, validators) == []


def test_forms_are_typed_like_parameters() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "maximum": 3}, "s": {"type": "string"}},
    }
    validators = {"application/x-www-form-urlencoded": compile_schema(schema, "3.0", "form")}
    found = body_violations(b"n=4&s=x", "application/x-www-form-urlencoded", True, validators)
    assert found == [{"location": "body/n", "message": "4 is greater than the maximum of 3"}]


def test_openapi_31_dialect() -> None:
    validators = {
        "application/json": compile_schema({"type": ["string", "null"], "maxLength": 2}, "3.1", "b")
    }
    assert body_violations(b"null", "application/json", True, validators) == []
    assert (
        body_violations(b'"abc"', "application/json", True, validators)[0]["message"] == "'abc' is too long"
    )


def test_broken_schema_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert compile_schema({"type": "strnig"}, "3.0", "query parameter 'q'") is None
    assert "query parameter 'q'" in caplog.text
    assert compile_schema(None, "3.0", "x") is None and compile_schema({}, "3.0", "x") is None


def test_cookies() -> None:
    assert cookies('a=1; b="two"') == {"a": "1", "b": "two"}
    assert cookies(None) == {}
