"""A large valid OpenAPI document, for the control plane's load test (loadtests/controlplane_locustfile.py)
and for measuring publication (issue 14, item 17). No locust here: tests import it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

__all__ = ["large_spec"]


@cache
def large_spec(operations: int) -> str:
    """A valid OpenAPI 3.0 document of `operations` operations (get, put, delete on each path)."""
    thing = {"$ref": "#/components/schemas/Thing"}
    paths: dict[str, Any] = {}
    for i in range(max(1, operations // 3)):
        params = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        ok = {"200": {"description": "ok", "content": {"application/json": {"schema": thing}}}}
        paths[f"/things{i}/{{id}}"] = {
            method: {"operationId": f"{method}Thing{i}", "parameters": params, "responses": ok}
            for method in ("get", "put", "delete")
        }
    schemas = {"Thing": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Load test", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return json.dumps(document)
