"""Sandbox answers: a version published without an upstream, or a call made with a sandbox
credential, is answered from the operation's example (`routes[].sandbox` in the snapshot) instead
of the upstream, so developers can try an API before access is granted. A sandbox entry may give a
JSON `schema` instead of a `body`; a sample is then generated from it.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.config.model import Route
from gateway.engine.http import Headers
from gateway.errors import NotImplementedHere

__all__ = ["sample_from_schema", "sandbox_answer"]

_STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.org",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.org/",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}


def sample_from_schema(schema: Any, depth: int = 0) -> Any:
    """A plausible instance of a JSON Schema (OpenAPI flavour): examples and defaults first."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = sample_from_schema(part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample_from_schema(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        return {name: sample_from_schema(sub, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        item = sample_from_schema(schema.get("items") or {}, depth + 1)
        return [item] * max(1, int(schema.get("minItems") or 1))
    if kind == "string":
        return _STRING_FORMATS.get(str(schema.get("format")), "string")
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return True
    return None


def _payload(sandbox: dict[str, Any]) -> tuple[bytes, str]:
    content_type = str(sandbox.get("content_type") or "application/json")
    body = sandbox["body"] if "body" in sandbox else sample_from_schema(sandbox.get("schema"))
    if isinstance(body, bytes):
        return body, content_type
    if isinstance(body, str) and "json" not in content_type:
        return body.encode(), content_type
    if body is None and "body" not in sandbox and "schema" not in sandbox:
        return b"", content_type
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), content_type


def sandbox_answer(route: Route | None, method: str, path: str) -> tuple[int, Headers, bytes]:
    """The example answer of a sandbox call (`NotImplementedHere` when the operation has none)."""
    sandbox = route.sandbox if route is not None else None
    if not isinstance(sandbox, dict):
        raise NotImplementedHere(f"{method} {path} has no example to answer from")
    body, content_type = _payload(sandbox)
    headers = [(b"content-type", content_type.encode("latin-1")), (b"x-agora-sandbox", b"true")]
    return int(sandbox.get("status") or 200), headers, body
