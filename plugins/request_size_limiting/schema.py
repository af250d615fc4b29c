"""Config fields of `request-size-limiting`: Kong's fields, names and defaults.

Descriptions are shown on the portal's reference pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UNITS", "Schema"]

UNITS = {"megabytes": 1 << 20, "kilobytes": 1 << 10, "bytes": 1}  # Kong's factors

Schema: tuple[dict[str, Any], ...] = (
    {
        "allowed_payload_size": {
            "type": "integer",
            "default": 128,
            "description": "Largest request body accepted, in `size_unit`. The API's own `max_body_bytes` "
            "still applies: this plugin can only lower the limit.",
        }
    },
    {
        "size_unit": {
            "type": "string",
            "default": "megabytes",
            "one_of": list(UNITS),
            "description": "Unit of `allowed_payload_size`: megabytes (2^20 bytes), kilobytes (2^10) or "
            "bytes.",
        }
    },
    {
        "require_content_length": {
            "type": "boolean",
            "default": False,
            "description": "Refuse bodies sent without Content-Length (chunked) with 411. Otherwise such "
            "bodies are counted while they stream and cut off with 413 at the limit.",
        }
    },
)
