"""Config fields of `ip-restriction`: Kong's ip-restriction fields, names and defaults.

Descriptions are shown on the portal's reference pages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Schema"]

Schema: tuple[dict[str, Any], ...] = (
    {
        "allow": {
            "type": "array",
            "default": None,
            "description": "Addresses and CIDR networks (IPv4 or IPv6, `192.0.2.0/24`, `2001:db8::/32`) "
            "that may call; set: every other client is refused.",
        }
    },
    {
        "deny": {
            "type": "array",
            "default": None,
            "description": "Addresses and CIDR networks that may not call. Deny wins over allow.",
        }
    },
    {
        "status": {
            "type": "integer",
            "default": 403,
            "description": "Status of the answer to a refused client.",
        }
    },
    {
        "message": {
            "type": "string",
            "default": "Your IP address is not allowed",
            "description": "`detail` of the problem document answered to a refused client.",
        }
    },
)
