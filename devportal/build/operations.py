"""What the reference section of one operation shows, prepared from the normalized spec."""

from __future__ import annotations

import re
from typing import Any

from devportal.build.samples import call_url, code_samples, request_example
from registry.specs import schema_example

__all__ = ["operation_view", "type_of"]

_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")


def type_of(schema: Any) -> str:
    if not isinstance(schema, dict) or not schema:
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {type_of(schema.get('items'))}"
    if kind is None and any(k in schema for k in ("oneOf", "anyOf", "allOf")):
        kind = "composite"
    text = str(kind or "object")
    if schema.get("format"):
        text += f" ({schema['format']})"
    if isinstance(schema.get("enum"), list):
        text += ": " + ", ".join(str(v) for v in schema["enum"][:8])
    return text


def _responses(operation: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for code, response in operation.get("responses", {}).items():
        content = (response or {}).get("content") or {}
        media = next((m for m in content if "json" in m), next(iter(content), None))
        entry = (content.get(media) or {}) if media else {}
        schema = entry.get("schema") if media else None
        example = entry.get("example")
        if example is None and schema is not None:
            example = schema_example(schema)
        out.append(
            {
                "code": code,
                "description": (response or {}).get("description") or "",
                "media": media,
                "schema": schema,
                "example": example,
            }
        )
    return out


def operation_view(
    operation: dict[str, Any],
    *,
    gateway_url: str,
    prefix: str,
    keyed: bool,
    personal_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`personal_data`: this operation's entry of `personal_data_view`, when it returns personal data."""
    body = operation.get("request_body")
    request = None
    example = request_example(operation)
    if body and example is not None:
        media, value = example
        request = {
            "media": media,
            "required": bool(body.get("required")),
            "schema": (body["content"].get(media) or {}).get("schema") or {},
            "example": value,
        }
    return {
        "method": operation["method"],
        "path": operation["path"],
        "anchor": "op-" + _ANCHOR.sub("-", operation.get("operation_id") or "operation").strip("-").lower(),
        "summary": operation.get("summary") or "",
        "description": operation.get("description") or "",
        "deprecated": operation.get("deprecated", False),
        "url": call_url(gateway_url, prefix, operation),
        "parameters": [
            {
                "name": p["name"],
                "in": p["in"],
                "type": type_of(p.get("schema")),
                "required": p.get("required", False),
                "description": p.get("description") or "",
            }
            for p in operation.get("parameters", [])
        ],
        "request": request,
        "responses": _responses(operation),
        "samples": code_samples(gateway_url, prefix, operation, keyed=keyed),
        "personal_data": personal_data,
    }
