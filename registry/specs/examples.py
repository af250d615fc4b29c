"""Sandbox responses: what the gateway's mock upstream answers for an operation.

The spec's own example wins (OpenAPI 3 `example`/`examples`, Swagger 2 `examples`, already folded
into the normalized `content[media]["example"]`; then `example` on the schema, at any depth). Only
what the spec leaves open is invented, from the schema, so a developer sees the real shape.
"""

from __future__ import annotations

import copy
from typing import Any

from registry.specs.coerce import as_dict, as_list

__all__ = ["MAX_DEPTH", "sandbox_response", "schema_example"]

# Deep enough for realistic payloads, shallow enough that a wide schema stays a small response.
MAX_DEPTH = 8

_FORMATS = {
    "date": "2024-01-31",
    "date-time": "2024-01-31T12:00:00Z",
    "time": "12:00:00",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "user@example.org",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "hostname": "example.org",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "c3RyaW5n",
    "password": "********",
}


def sandbox_response(operation: dict[str, Any]) -> dict[str, Any]:
    """`{status, content_type, body}` for the first 2xx response of a normalized operation.

    Without a 2xx response the `default` response stands in (answered as 200); without content the
    body is null.
    """
    responses = as_dict(operation.get("responses"))
    success = sorted(code for code in responses if code.startswith("2"))
    code = success[0] if success else ("default" if "default" in responses else None)
    status = int(code) if code is not None and code.isdigit() else 200
    content = as_dict(as_dict(responses.get(code)).get("content")) if code is not None else {}
    if not content:
        return {"status": status, "content_type": None, "body": None}
    media = _preferred_media(list(content))
    entry = as_dict(content[media])
    if entry.get("example") is not None:
        body = copy.deepcopy(entry["example"])
    else:
        body = schema_example(entry.get("schema"))
    return {"status": status, "content_type": media, "body": body}


def _preferred_media(media_types: list[str]) -> str:
    """JSON if the operation offers it (what a sandbox user most likely parses), else the first."""
    for media in media_types:
        base = media.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return media
    return media_types[0]


def schema_example(schema: Any, depth: int = 0) -> Any:
    """A value valid for `schema` (as far as a generator can tell), its own examples preferred."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH or "$ref" in schema:
        return None  # `$ref` left in a normalized schema marks recursion: stop there
    for key in ("example", "const"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if as_list(schema.get("examples")):  # JSON Schema 2020-12 (OpenAPI 3.1) spelling
        return copy.deepcopy(schema["examples"][0])
    if schema.get("default") is not None:
        return copy.deepcopy(schema["default"])
    if as_list(schema.get("enum")):
        return copy.deepcopy(schema["enum"][0])
    if as_list(schema.get("allOf")):
        return _all_of(schema["allOf"], depth)
    for key in ("oneOf", "anyOf"):
        if as_list(schema.get(key)):
            return schema_example(schema[key][0], depth + 1)
    return _by_type(schema, _type_of(schema), depth)


def _all_of(parts: list[Any], depth: int) -> Any:
    values = [schema_example(part, depth + 1) for part in parts]
    if all(isinstance(value, dict) for value in values):
        merged: dict[str, Any] = {}
        for value in values:
            merged.update(value)
        return merged
    return next((value for value in values if value is not None), None)


def _type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    return "array" if "items" in schema else None


def _by_type(schema: dict[str, Any], kind: str | None, depth: int) -> Any:
    if kind == "object":
        properties = as_dict(schema.get("properties"))
        value = {str(name): schema_example(sub, depth + 1) for name, sub in properties.items()}
        extra = schema.get("additionalProperties")
        if not value and isinstance(extra, dict):
            value["key"] = schema_example(extra, depth + 1)
        return value
    if kind == "array":
        return [schema_example(schema["items"], depth + 1)] if isinstance(schema.get("items"), dict) else []
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    return None


def _string(schema: dict[str, Any]) -> str:
    value = _FORMATS.get(str(schema.get("format")), "string")
    min_length, max_length = schema.get("minLength"), schema.get("maxLength")
    if isinstance(min_length, int) and len(value) < min_length:
        value = value + "x" * (min_length - len(value))
    if isinstance(max_length, int) and len(value) > max_length:
        value = value[:max_length]
    return value


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    exclusive = schema.get("exclusiveMinimum")
    if isinstance(exclusive, (int, float)) and not isinstance(exclusive, bool):
        value: int | float = exclusive + 1  # OpenAPI 3.1: exclusiveMinimum is the bound itself
    elif isinstance(minimum, (int, float)) and not isinstance(minimum, bool):
        value = minimum + 1 if exclusive is True else minimum
    elif isinstance(maximum, (int, float)) and not isinstance(maximum, bool) and maximum < 0:
        value = maximum
    else:
        value = 0
    if integer:
        return int(value) if float(value).is_integer() else int(value) + 1
    return float(value)
