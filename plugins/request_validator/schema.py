"""Config fields of `request-validator`. Descriptions are shown on the portal's reference pages.

An agency only opts in (`x-agora-plugins`, document or operation level, e.g. `{"name": "request-validator"}`);
the registry then fills `openapi`, `parameters` and `body` of each route's entry from the operation
(registry/compile/snapshot.py), so the plugin needs nothing but its config, in Agora's gateway or in Kong.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Schema"]

Schema: tuple[dict[str, Any], ...] = (
    {
        "max_body_bytes": {
            "type": "integer",
            "default": 1024 * 1024,
            "description": "Largest body read for validation; a larger one is refused with 413 (the API's "
            "own `max_body_bytes` caps it further). Only routes whose operation takes a body read it.",
        }
    },
    {
        "openapi": {
            "type": "string",
            "default": "3.0",
            "one_of": ["3.0", "3.1"],
            "description": "The schema dialect: OpenAPI 3.0 (also for Swagger 2.0 specs) or 3.1 (JSON Schema "
            "2020-12). Filled by the registry from the spec.",
        }
    },
    {
        "parameters": {
            "type": "array",
            "default": [],
            "description": "The operation's parameters, `{name, in, required, schema}` (`in`: path, query, "
            "header, cookie). Filled by the registry from the spec.",
        }
    },
    {
        "body": {
            "type": "record",
            "default": None,
            "description": "The operation's request body, `{required, content: {media type: schema}}`; null "
            "when it takes none. Filled by the registry from the spec.",
        }
    },
)
