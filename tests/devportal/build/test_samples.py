"""Code samples fill the gateway URL, path and required query parameters, body and key header."""

from __future__ import annotations

from typing import Any

from devportal.build.samples import call_url, code_samples, parameter_value

OPERATION: dict[str, Any] = {
    "method": "POST",
    "path": "/items/{id}",
    "parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "example": "a b"}},
        {"name": "q", "in": "query", "required": True, "schema": {"type": "integer"}},
        {"name": "opt", "in": "query", "required": False, "schema": {"type": "string"}},
    ],
    "request_body": {"required": True, "content": {"application/json": {"schema": {}, "example": {"n": 1}}}},
}


def test_url_has_examples_for_path_and_required_query() -> None:
    assert call_url("http://gw", "/a/b/v1", OPERATION) == "http://gw/a/b/v1/items/a%20b?q=0"


def test_samples_carry_key_body_and_method() -> None:
    samples = code_samples("http://gw", "/a/b/v1", OPERATION, keyed=True)
    assert samples["curl"].splitlines()[0] == "curl -sS -X POST 'http://gw/a/b/v1/items/a%20b?q=0' \\"
    assert (
        "-H 'apikey: YOUR_API_KEY'" in samples["curl"] and """--data-binary '{"n": 1}'""" in samples["curl"]
    )
    assert (
        "httpx.request(\n    'POST'" in samples["python"] and '"apikey": "YOUR_API_KEY"' in samples["python"]
    )
    assert 'method: "POST"' in samples["javascript"] and "YOUR_API_KEY" in samples["javascript"]


def test_open_apis_need_no_key() -> None:
    samples = code_samples(
        "http://gw", "/a/b/v1", {**OPERATION, "method": "GET", "request_body": None}, keyed=False
    )
    assert "apikey" not in "".join(samples.values())
    assert samples["curl"] == "curl -sS 'http://gw/a/b/v1/items/a%20b?q=0'"


def test_parameter_values_prefer_examples_then_defaults_then_a_typed_placeholder() -> None:
    def value(**param: Any) -> str:
        return parameter_value({"name": "company_id", "in": "path", **param})

    assert value(example="RC100001", schema={"type": "string", "example": "other"}) == "RC100001"
    assert value(schema={"type": "string", "examples": ["RC1"]}) == "RC1"
    assert value(schema={"type": "string", "default": "d"}) == "d"
    assert value(schema={"type": "string", "enum": ["a", "b"]}) == "a"
    assert value(schema={"type": "integer", "minimum": 3}) == "3"
    assert value(schema={"type": "string", "format": "date"}) == "2024-01-31"
    assert value(schema={"type": "string"}) == "YOUR_COMPANY_ID"
    assert value() == "YOUR_COMPANY_ID"


def test_the_example_on_a_spec_s_path_parameter_reaches_the_sample() -> None:
    from examples.catalog import by_api_slug
    from registry.specs import load_spec, normalize

    doc = normalize(load_spec(by_api_slug("companies").spec_text(), "companies.yaml"))
    get_company = next(op for op in doc["operations"] if op["operation_id"] == "getCompany")
    assert call_url("http://gw", "/commerce/companies/v1", get_company).endswith("/companies/RC100001")
