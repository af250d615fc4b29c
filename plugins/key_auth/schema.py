"""Config fields of `key-auth`: Kong's key-auth fields, names and defaults, so Kong configs carry over.

The registry emits `{"key_names": ["apikey"], "hide_credentials": true}` for key and restricted APIs
(registry/compile/plugins.py). Descriptions are shown on the portal's reference pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Schema"]

Schema: tuple[dict[str, Any], ...] = (
    {
        "key_names": {
            "type": "array",
            "default": ["apikey"],
            "required": True,
            "description": "Header names and query parameter names where the API key is looked for, "
            "in this order (header first, then query, for each name).",
        }
    },
    {
        "hide_credentials": {
            "type": "boolean",
            "default": False,
            # Keys work on every API their application may call: an agency's upstream must never see
            # them. Publication refuses false; an entry without it gets true (registry/plugin_policy.py).
            "agency_values": (True,),
            "description": "Remove the key from the request before it goes to the upstream "
            "(the header, or the query parameter). Always true for APIs published on Agora: a key works "
            "on every API its application may call, so no upstream may see it.",
        }
    },
    {
        "anonymous": {
            "type": "string",
            "default": None,
            "description": "Id or username of a consumer to use when no valid key is sent; unset: such "
            "requests are refused with 401. The upstream sees `X-Anonymous-Consumer: true`.",
        }
    },
    {
        "key_in_header": {
            "type": "boolean",
            "default": True,
            "description": "Look for the key in the request headers named by `key_names`.",
        }
    },
    {
        "key_in_query": {
            "type": "boolean",
            "default": True,
            "description": "Look for the key in the query parameters named by `key_names`.",
        }
    },
    {
        "key_in_body": {
            "type": "boolean",
            "default": False,
            "description": "Not supported by Agora's gateway (bodies are streamed, never buffered): "
            "must stay false; a config setting it to true is refused.",
        }
    },
    {
        "run_on_preflight": {
            "type": "boolean",
            "default": True,
            "description": "Also require a key on CORS preflight (`OPTIONS`) requests.",
        }
    },
    {
        "failure_limit": {
            "type": "integer",
            "default": 100,
            "description": "Invalid keys one client address may send within `failure_window` seconds; past "
            "that, every key from it is refused with 429 until the window ends (brute force). Counted in "
            "Redis when the gateway has AGORA_REDIS_URL, else per worker. 0 turns the guard off.",
        }
    },
    {
        "failure_window": {
            "type": "integer",
            "default": 300,
            "description": "Seconds of the windows invalid keys are counted in (fixed windows aligned on the "
            "clock); a blocked address waits for its window to end.",
        }
    },
    {
        "realm": {
            "type": "string",
            "default": "agora",
            "description": 'The realm of the `WWW-Authenticate: Key realm="..."` header sent with 401s.',
        }
    },
)
