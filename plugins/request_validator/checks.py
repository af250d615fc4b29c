"""The checks themselves: request parts -> violations, each `{"location", "message"}`.

Schema semantics come from openapi-schema-validator (OpenAPI 3.0 Schema Objects in the request
("write") context: `nullable`, `readOnly` refused, OpenAPI formats; or 3.1's JSON Schema 2020-12).
What is ours is only the HTTP side: where each parameter is found (path captures, query, header,
cookie), turning its text into the schema's primitive type (`"10"` -> 10 for an integer: OpenAPI's
`simple` and `form` styles), and parsing the body by media type. Locations read `path.company_id`,
`query.limit`, `header.X-Trace`, `cookie.session`, `body` and `body/items/0/name` (JSON Pointer-like).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from openapi_schema_validator import (
    OAS30WriteValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)

__all__ = ["Violation", "body_violations", "coerce", "compile_schema", "cookies", "parameter_violations"]

log = logging.getLogger("agora.plugins.request_validator")
Violation = dict[str, str]
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def compile_schema(schema: Any, dialect: str, where: str) -> Validator | None:
    """A validator for `schema`, or None for no schema. A schema that is itself broken is logged and
    skipped: refusing the snapshot would take every API of the platform down for one operation."""
    if not isinstance(schema, dict) or not schema:
        return None
    cls, checker = (OAS31Validator, oas31_format_checker) if dialect == "3.1" else (
        OAS30WriteValidator, oas30_format_checker)  # fmt: skip
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        log.warning("request-validator: the schema of %s is invalid, not checked: %s", where, exc.message)
        return None
    validator: Validator = cls(schema, format_checker=checker)
    return validator


def _type(schema: Any) -> str | None:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):  # 3.1: ["integer", "null"]
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def coerce(raw: str, schema: Any) -> Any:
    """Text from a URL or header -> the schema's primitive type; left as text when it does not fit,
    so the validator reports it (`'ten' is not of type 'integer'`)."""
    kind = _type(schema)
    if kind == "integer" and _INTEGER.fullmatch(raw):
        return int(raw)
    if kind == "number" and _NUMBER.fullmatch(raw):
        number = float(raw)
        return int(number) if number.is_integer() and _INTEGER.fullmatch(raw) else number
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    if kind == "null" and raw == "":
        return None
    return raw


def _value(raw: str | list[str], schema: Any, split: bool) -> Any:
    """A parameter's value: arrays from repeated query keys (`form`, explode) or comma lists (`simple`)."""
    if _type(schema) == "array":
        items = schema.get("items") if isinstance(schema, dict) else None
        values = raw if isinstance(raw, list) else (raw.split(",") if split and raw else [raw])
        return [coerce(v, items) for v in values]
    return coerce(raw, schema) if isinstance(raw, str) else raw


def _errors(validator: Validator, instance: Any, location: str, pointer: bool) -> list[Violation]:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "".join(f"/{p}" for p in error.absolute_path) if pointer else ""
        out.append({"location": location + path, "message": error.message})
    return out


def parameter_violations(
    parameters: Iterable[tuple[str, str, bool, Any, Validator | None]], found: Mapping[str, Mapping[str, Any]]
) -> list[Violation]:
    """`parameters`: (name, in, required, schema, validator); `found`: location -> name -> raw value."""
    out: list[Violation] = []
    for name, where, required, schema, validator in parameters:
        location = f"{where}.{name}"
        raw = found.get(where, {}).get(name.lower() if where == "header" else name)
        if raw is None:
            if required:
                out.append({"location": location, "message": "is required"})
            continue
        if isinstance(raw, list) and _type(schema) != "array":
            out.append({"location": location, "message": f"is given {len(raw)} times, at most once"})
            continue
        if validator is not None:
            out += _errors(validator, _value(raw, schema, split=where != "query"), location, pointer=False)
    return out


def cookies(header: str | None) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _pick(media: str, accepted: Mapping[str, Any]) -> str | None:
    """The spec's media type range that covers `media`: exact, then `type/*`, then `*/*`."""
    for candidate in (media, media.split("/", 1)[0] + "/*", "*/*"):
        if candidate in accepted:
            return candidate
    return None


def body_violations(
    body: bytes | None, content_type: str | None, required: bool, validators: Mapping[str, Validator | None]
) -> list[Violation]:
    """JSON bodies (`application/json`, `*+json`) and forms are checked against their schema; other
    media types only for being accepted at all."""
    if not body:
        return [{"location": "body", "message": "a request body is required"}] if required else []
    media = _media(content_type)
    chosen = _pick(media, validators)
    if chosen is None:
        accepted = ", ".join(sorted(validators)) or "none"
        return [{"location": "header.Content-Type", "message": f"{media or 'no media type'} is not "
                 f"accepted here (accepted: {accepted})"}]  # fmt: skip
    validator = validators[chosen]
    if media == "application/json" or media.endswith("+json"):
        try:
            instance: Any = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return [{"location": "body", "message": f"is not valid JSON: {exc}"}]
    elif media == "application/x-www-form-urlencoded":
        schema = validator.schema if validator is not None else {}
        fields = schema.get("properties", {}) if isinstance(schema, dict) else {}
        parsed = parse_qs(body.decode("latin-1"), keep_blank_values=True)
        instance = {
            k: _value(v if len(v) > 1 else v[0], fields.get(k), split=False) for k, v in parsed.items()
        }
    else:
        return []
    return _errors(validator, instance, "body", pointer=True) if validator is not None else []
