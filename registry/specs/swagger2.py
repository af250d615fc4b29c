"""Swagger 2.0 parameters, bodies and responses in their OpenAPI 3 shape, for `normalize`.

Swagger 2 describes request bodies as `body`/`formData` parameters and media types once per
operation (`consumes`/`produces`); OpenAPI 3 attaches a schema to each media type. The normalized
form is the OpenAPI 3 one.
"""

from __future__ import annotations

import copy
from typing import Any

from registry.specs.coerce import text
from registry.specs.refs import Resolver

__all__ = ["body_of", "parameter_of", "responses_of"]

# Parameter fields that describe the value (they move into `schema`); the rest describe the parameter.
_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_DEFAULT_MEDIA = ["application/json"]


def parameter_of(param: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """A non-body parameter; `collectionFormat` is kept in the schema as `x-collection-format`."""
    schema = {key: resolver.deep(param[key]) for key in _SCHEMA_KEYS if key in param}
    if "collectionFormat" in param:
        schema["x-collection-format"] = param["collectionFormat"]
    return {
        "name": str(param.get("name", "")),
        "in": str(param.get("in", "")),
        "required": param.get("in") == "path" or param.get("required") is True,
        "description": text(param.get("description")),
        "schema": schema,
        # Swagger 2 has no parameter example; `x-example` is the common vendor spelling for one.
        **({"example": param["x-example"]} if param.get("x-example") is not None else {}),
    }


def body_of(params: list[dict[str, Any]], consumes: list[str], resolver: Resolver) -> dict[str, Any] | None:
    """The request body that the `body` parameter, or else the `formData` parameters, describe."""
    body = next((p for p in params if p.get("in") == "body"), None)
    if body is not None:
        schema = resolver.deep(body.get("schema", {}))
        return {
            "required": body.get("required") is True,
            "description": text(body.get("description")),
            "content": {
                media: {"schema": copy.deepcopy(schema), "example": None}
                for media in consumes or _DEFAULT_MEDIA
            },
        }
    form = [p for p in params if p.get("in") == "formData"]
    if not form:
        return None
    properties = {str(p.get("name", "")): parameter_of(p, resolver)["schema"] for p in form}
    required = [str(p.get("name", "")) for p in form if p.get("required") is True]
    form_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        form_schema["required"] = required
    media_types = [media for media in consumes if media in _FORM_TYPES]
    if not media_types:
        has_file = any(p.get("type") == "file" for p in form)
        media_types = ["multipart/form-data" if has_file else "application/x-www-form-urlencoded"]
    return {
        "required": bool(required),
        "description": "",
        "content": {media: {"schema": copy.deepcopy(form_schema), "example": None} for media in media_types},
    }


def responses_of(responses: Any, produces: list[str], resolver: Resolver) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for code, raw in responses.items() if isinstance(responses, dict) else ():
        response = resolver.shallow(raw)
        if not isinstance(response, dict) or str(code).startswith("x-"):
            continue
        examples = response.get("examples")
        examples = examples if isinstance(examples, dict) else {}
        content: dict[str, Any] = {}
        if "schema" in response:
            schema = resolver.deep(response["schema"])
            for media in produces or _DEFAULT_MEDIA:
                content[media] = {
                    "schema": copy.deepcopy(schema),
                    "example": copy.deepcopy(examples.get(media)),
                }
        for media, example in examples.items():
            content.setdefault(media, {"schema": None, "example": copy.deepcopy(example)})
        result[str(code)] = {"description": text(response.get("description")), "content": content}
    return dict(sorted(result.items()))
