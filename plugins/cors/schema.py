"""Config fields of `cors`: Kong's cors fields, names and defaults, so Kong configs carry over.

Descriptions are shown on the portal's reference pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_METHODS", "Schema"]

DEFAULT_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

Schema: tuple[dict[str, Any], ...] = (
    {
        "origins": {
            "type": "array",
            "default": None,
            "description": "Origins allowed to call the API from a browser: `*` (any), an exact origin "
            "(`https://maps.example.org`), or a regular expression matched against the whole origin "
            "(`https://[a-z]+\\.example\\.org`). Unset: any origin.",
        }
    },
    {
        "methods": {
            "type": "array",
            "default": list(DEFAULT_METHODS),
            "description": "Methods announced in Access-Control-Allow-Methods of preflight answers "
            "(`*`: the default list).",
        }
    },
    {
        "headers": {
            "type": "array",
            "default": None,
            "description": "Request headers announced in Access-Control-Allow-Headers of preflight "
            "answers. Unset (or `*`): the headers the preflight asks for.",
        }
    },
    {
        "exposed_headers": {
            "type": "array",
            "default": None,
            "description": "Response headers scripts may read (Access-Control-Expose-Headers).",
        }
    },
    {
        "credentials": {
            "type": "boolean",
            "default": False,
            "description": "Allow credentialed requests (cookies, Authorization) with "
            "Access-Control-Allow-Credentials: true. Only ever granted to origins listed explicitly or "
            "matched by a pattern, never through `*`.",
        }
    },
    {
        "max_age": {
            "type": "number",
            "default": None,
            "description": "Seconds a browser may cache a preflight answer (Access-Control-Max-Age).",
        }
    },
    {
        "preflight_continue": {
            "type": "boolean",
            "default": False,
            "description": "Pass preflight requests on to the upstream instead of answering them. Only "
            "where the API declares an OPTIONS operation at that path; elsewhere the plugin answers.",
        }
    },
    {
        "private_network": {
            "type": "boolean",
            "default": False,
            "description": "Answer Access-Control-Allow-Private-Network: true to preflights that ask "
            "for it (Private Network Access).",
        }
    },
)
