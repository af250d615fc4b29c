"""One version-agnostic, JSON-serialisable, deterministic form of a spec.

The diff, the gateway route compiler and the developer portal read this form only, so they never
care whether an agency wrote Swagger 2.0 or OpenAPI 3.x. Shape (every key always present):

    {kind, title, version, description, base_path, servers, security_schemes, security, tags,
     extensions, operations: [{method, path, operation_id, summary, description, tags, deprecated,
     parameters: [{name, in, required, description, schema}],
     request_body: null | {required, description, content: {media_type: {schema, example}}},
     responses: {code: {description, content: {media_type: {schema, example}}}},
     security, extensions}]}

Operations are sorted by (path, method); parameters keep the spec's order (path-level first, an
operation-level parameter replacing a path-level one with the same name and location); responses
are sorted by code. Local `$ref`s are expanded (see `refs`). Operation ids are made unique: a
missing one is generated from method and path (`get_addresses_id`), a duplicate gets `_2`, `_3`...
Path parameters are always `required`, whatever the spec says, because a URL cannot omit them.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from registry.specs import swagger2
from registry.specs.coerce import as_dict, as_list, strings, text
from registry.specs.refs import Resolver
from registry.specs.security import requirements, security_schemes
from registry.specs.validate import spec_kind

__all__ = ["HTTP_METHODS", "normalize"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
EXTENSION_PREFIX = "x-agora-"


def normalize(doc: dict[str, Any]) -> dict[str, Any]:
    kind = spec_kind(doc)
    resolver = Resolver(doc)
    info = as_dict(doc.get("info"))
    security = requirements(doc.get("security")) or []
    operations = []
    for path, raw_item in as_dict(doc.get("paths")).items():
        item = as_dict(resolver.shallow(raw_item))
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                operations.append(_operation(doc, kind, resolver, str(path), item, method, security))
    operations.sort(key=lambda op: (op["path"], op["method"]))
    _unique_operation_ids(operations)
    servers = _servers(doc, kind)
    return {
        "kind": kind,
        "title": text(info.get("title")),
        "version": str(info.get("version", "")),
        "description": text(info.get("description")),
        "base_path": _base_path(doc, kind, servers),
        "servers": servers,
        "security_schemes": security_schemes(doc, kind, resolver),
        "security": security,
        "tags": [
            {"name": tag["name"], "description": text(tag.get("description"))}
            for tag in as_list(doc.get("tags"))
            if isinstance(tag, dict) and isinstance(tag.get("name"), str)
        ],
        "extensions": _extensions(doc),
        "operations": operations,
    }


def _operation(
    doc: dict[str, Any],
    kind: str,
    resolver: Resolver,
    path: str,
    item: dict[str, Any],
    method: str,
    doc_security: list[dict[str, list[str]]],
) -> dict[str, Any]:
    op: dict[str, Any] = item[method]
    raw_params = _merged_parameters(resolver, item.get("parameters"), op.get("parameters"))
    if kind == "swagger-2.0":
        consumes = strings(op.get("consumes", doc.get("consumes")))
        produces = strings(op.get("produces", doc.get("produces")))
        parameters = [swagger2.parameter_of(p, resolver) for p in raw_params if p.get("in") not in _BODY_IN]
        request_body = swagger2.body_of(raw_params, consumes, resolver)
        responses = swagger2.responses_of(op.get("responses"), produces, resolver)
    else:
        parameters = [_parameter(p, resolver) for p in raw_params]
        request_body = _request_body(op.get("requestBody"), resolver)
        responses = _responses(op.get("responses"), resolver)
    operation_id = op.get("operationId")
    own_security = requirements(op.get("security"))
    return {
        "method": method.upper(),
        "path": path,
        "operation_id": operation_id if isinstance(operation_id, str) and operation_id else "",
        "summary": text(op.get("summary")),
        "description": text(op.get("description")),
        "tags": strings(op.get("tags")),
        "deprecated": op.get("deprecated") is True,
        "parameters": parameters,
        "request_body": request_body,
        "responses": responses,
        "security": doc_security if own_security is None else own_security,
        "extensions": {**_extensions(doc), **_extensions(item), **_extensions(op)},
    }


_BODY_IN = ("body", "formData")


def _merged_parameters(resolver: Resolver, *levels: Any) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for level in levels:
        for raw in as_list(level):
            param = resolver.shallow(raw)
            if isinstance(param, dict):
                merged[(str(param.get("in")), str(param.get("name")))] = param
    return list(merged.values())


def _parameter(param: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    schema = param.get("schema")
    if schema is None:  # OpenAPI 3 may describe a parameter by `content` instead of `schema`
        first: Any = next(iter(as_dict(param.get("content")).values()), {})
        schema = as_dict(resolver.shallow(first)).get("schema")
    return {
        "name": str(param.get("name", "")),
        "in": str(param.get("in", "")),
        "required": param.get("in") == "path" or param.get("required") is True,
        "description": text(param.get("description")),
        "schema": resolver.deep(schema) if schema is not None else {},
        **_parameter_example(param, resolver),
    }


def _parameter_example(param: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """The parameter's own `example` (or its first `examples` entry's value), which code samples fill
    in; only when the spec gives one, so documents without it keep their normalized form."""
    if param.get("example") is not None:
        return {"example": param["example"]}
    for entry in as_dict(param.get("examples")).values():
        value = as_dict(resolver.shallow(entry)).get("value")
        if value is not None:
            return {"example": value}
    return {}


def _request_body(raw: Any, resolver: Resolver) -> dict[str, Any] | None:
    body = resolver.shallow(raw)
    if not isinstance(body, dict):
        return None
    return {
        "required": body.get("required") is True,
        "description": text(body.get("description")),
        "content": _content(body.get("content"), resolver),
    }


def _responses(raw: Any, resolver: Resolver) -> dict[str, Any]:
    result = {}
    for code, value in as_dict(raw).items():
        response = resolver.shallow(value)
        if isinstance(response, dict) and not str(code).startswith("x-"):
            result[str(code)] = {
                "description": text(response.get("description")),
                "content": _content(response.get("content"), resolver),
            }
    return dict(sorted(result.items()))


def _content(raw: Any, resolver: Resolver) -> dict[str, Any]:
    content = {}
    for media, value in as_dict(raw).items():
        entry = as_dict(resolver.shallow(value))
        example = entry.get("example")
        if example is None:
            # The first named example stands for the media type (the portal shows the rest).
            first = next(iter(as_dict(entry.get("examples")).values()), None)
            example = as_dict(resolver.shallow(first)).get("value")
        schema = entry.get("schema")
        content[str(media)] = {
            "schema": resolver.deep(schema) if schema is not None else None,
            "example": copy.deepcopy(example),
        }
    return content


def _servers(doc: dict[str, Any], kind: str) -> list[str]:
    if kind == "swagger-2.0":
        base = text(doc.get("basePath"))
        host = text(doc.get("host"))
        if not host:
            return [base] if base else []
        return [f"{scheme}://{host}{base}" for scheme in strings(doc.get("schemes")) or ["https"]]
    urls = []
    for server in as_list(doc.get("servers")):
        url = text(as_dict(server).get("url"))
        for name, variable in as_dict(as_dict(server).get("variables")).items():
            url = url.replace("{" + str(name) + "}", str(as_dict(variable).get("default", "")))
        urls.append(url)
    return urls


def _base_path(doc: dict[str, Any], kind: str, servers: list[str]) -> str:
    if kind == "swagger-2.0":
        path = text(doc.get("basePath"))
    else:
        path = urlsplit(servers[0]).path if servers else ""
    return path.rstrip("/")


def _unique_operation_ids(operations: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for op in operations:
        base = op["operation_id"] or _generated_id(op["method"], op["path"])
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}_{n}"
        seen.add(candidate)
        op["operation_id"] = candidate


def _generated_id(method: str, path: str) -> str:
    words = re.sub(r"[^0-9A-Za-z]+", "_", path).strip("_").lower()
    return f"{method.lower()}_{words}" if words else method.lower()


def _extensions(node: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in sorted(node.items()) if str(k).startswith(EXTENSION_PREFIX)}
