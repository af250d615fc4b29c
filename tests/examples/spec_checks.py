"""Check the example upstreams against their specs: load a spec, dereference it, validate bodies.

A plain module rather than conftest fixtures so tests can import its types
(`from tests.examples.spec_checks import ...`, with the repository root on pytest's pythonpath).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Protocol

import yaml
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)

from examples.catalog import by_api_slug

__all__ = ["Response", "Spec", "is_valid", "load_spec", "validate"]


class Response(Protocol):
    """What the checks read of a response; TestClient's (httpx2-typed) and httpx's both fit."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    def json(self) -> Any: ...


HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _inline(node: Any, root: dict[str, Any]) -> Any:
    """Replace every local `$ref` by its target: the validators then need no reference registry."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _inline(target, root)
        return {key: _inline(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, root) for item in node]
    return node


class Spec:
    """One example spec, dereferenced, with the checks the tests need."""

    def __init__(self, api_slug: str) -> None:
        self.raw: dict[str, Any] = yaml.safe_load(by_api_slug(api_slug).spec_text())
        self.doc: dict[str, Any] = _inline(self.raw, self.raw)

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(METHOD, path template, operation) for every operation."""
        for template, item in self.doc["paths"].items():
            for method in HTTP_METHODS:
                if method in item:
                    yield method.upper(), template, item[method]

    def operation(self, method: str, template: str) -> dict[str, Any]:
        operation: dict[str, Any] = self.doc["paths"][template][method.lower()]
        return operation

    def parameters(self, method: str, template: str) -> list[dict[str, Any]]:
        shared = self.doc["paths"][template].get("parameters", [])
        return [*shared, *self.operation(method, template).get("parameters", [])]

    def media(self, method: str, template: str, status: int, content_type: str) -> dict[str, Any]:
        responses = self.operation(method, template)["responses"]
        assert str(status) in responses, f"{method} {template} is not specified to answer {status}"
        content = responses[str(status)]["content"]
        assert content_type in content, f"{method} {template} {status}: {content_type} not in {list(content)}"
        media: dict[str, Any] = content[content_type]
        return media

    def check(self, method: str, template: str, response: Response) -> Any:
        """Assert that `response` is one the spec allows for this operation; return its JSON body."""
        content_type = response.headers["content-type"].split(";")[0]
        media = self.media(method, template, response.status_code, content_type)
        body = response.json()
        self.validate(body, media["schema"])
        return body

    def validate(self, instance: Any, schema: dict[str, Any]) -> None:
        validate(instance, schema, openapi=self.raw["openapi"])

    def is_valid(self, instance: Any, schema: dict[str, Any]) -> bool:
        return is_valid(instance, schema, openapi=self.raw["openapi"])


def _validator(schema: dict[str, Any], openapi: str) -> Any:
    # 3.1's schemas are JSON Schema 2020-12 (`type: [string, "null"]`); 3.0's are its own dialect.
    if openapi.startswith("3.1"):
        return OAS31Validator(schema, format_checker=oas31_format_checker)
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def validate(instance: Any, schema: dict[str, Any], *, openapi: str = "3.0.3") -> None:
    _validator(schema, openapi).validate(instance)


def is_valid(instance: Any, schema: dict[str, Any], *, openapi: str = "3.0.3") -> bool:
    return bool(_validator(schema, openapi).is_valid(instance))


@cache
def load_spec(api_slug: str) -> Spec:
    return Spec(api_slug)
