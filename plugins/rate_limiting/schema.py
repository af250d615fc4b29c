"""Config fields of `rate-limiting`: Kong's rate-limiting names and defaults where Kong has the field.

The registry emits `{"limit_by": "ip", "limits": {...}}` for open APIs and `{"limit_by": "consumer"}`
for key and restricted APIs, whose limits come from the caller's plan (registry/compile/plugins.py).
Descriptions are shown on the portal's reference pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Schema"]


def _period(name: str) -> dict[str, Any]:
    return {
        name: {
            "type": "integer",
            "default": None,
            "description": f"Calls allowed per {name}. Set: overrides the plan's {name} limit; unset: "
            "the plan's (or `limits`'), if any.",
        }
    }


Schema: tuple[dict[str, Any], ...] = (
    _period("second"),
    _period("minute"),
    _period("hour"),
    _period("day"),
    _period("month"),
    {
        "limits": {
            "type": "map",
            "default": None,
            "description": "The same limits as a map `{second, minute, hour, day, month}` (null: no limit "
            "for that period), as the registry writes them for open APIs; a period field wins over it.",
        }
    },
    {
        "limit_by": {
            "type": "string",
            "default": "consumer",
            "one_of": ["consumer", "credential", "ip", "header", "path", "service"],
            "description": "Who shares a counter: the authenticated application (consumer), its API key "
            "(credential), the client IP, the value of `header_name`, the path `path`, or every caller "
            "of the API (service). Without the consumer, credential, header or path, the client IP.",
        }
    },
    {
        "header_name": {
            "type": "string",
            "default": None,
            "description": "The request header whose value is counted when `limit_by` is header.",
        }
    },
    {
        "path": {
            "type": "string",
            "default": None,
            "description": "When `limit_by` is path: calls to exactly this path (as the client writes it, "
            "with the API's prefix) share one counter; calls to other paths are counted by IP.",
        }
    },
    {
        "policy": {
            "type": "string",
            "default": None,
            "one_of": ["local", "redis"],
            "description": "Where counters live: local (each gateway process counts alone) or redis "
            "(shared by every gateway). Unset: redis when the gateway has AGORA_REDIS_URL, else local.",
        }
    },
    {
        "window": {
            "type": "string",
            "default": "fixed",
            "one_of": ["fixed", "sliding"],
            "description": "fixed: counters restart at each calendar second, minute, hour, day, month "
            "(UTC). sliding: the previous window's count, weighted by how much of it the last period "
            "still covers, is added to the current one (no burst of twice the limit at a boundary).",
        }
    },
    {
        "fault_tolerant": {
            "type": "boolean",
            "default": True,
            "description": "When the counters cannot be reached (Redis down): true serves the call "
            "uncounted, false refuses it with 503. Either way the outage is logged.",
        }
    },
    {
        "hide_client_headers": {
            "type": "boolean",
            "default": False,
            "description": "Do not send the X-RateLimit-* and RateLimit-* headers (Retry-After still is).",
        }
    },
    {
        "error_code": {
            "type": "integer",
            "default": 429,
            "description": "Status of the answer to a call over the limit.",
        }
    },
    {
        "error_message": {
            "type": "string",
            "default": "API rate limit exceeded",
            "description": "`detail` of the problem document answered to a call over the limit.",
        }
    },
    {
        "redis_url": {
            "type": "string",
            "default": None,
            "url": True,
            # Which Redis counts is the operator's (AGORA_REDIS_URL), never an agency's: refused in
            # x-agora-plugins (registry/plugin_policy.py).
            "operator_only": True,
            "description": "redis:// or rediss:// URL of the Redis to count in, instead of the gateway's "
            "AGORA_REDIS_URL. The operator's setting: refused in an API's `x-agora-plugins`.",
        }
    },
    {
        "redis_timeout": {
            "type": "integer",
            "default": 2000,
            "description": "Milliseconds to wait for Redis (connecting, or answering) before the call "
            "counts as Redis being unreachable.",
        }
    },
)
