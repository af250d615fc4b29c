"""Code samples fill the gateway URL, path and required query parameters, body and key header."""

from __future__ import annotations

from typing import Any

from devportal.build.samples import call_url, code_samples

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
