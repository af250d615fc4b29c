"""Config fields of `access-control`. The registry emits `{}` for restricted APIs
(registry/compile/plugins.py); the Kong export maps that to Kong's `acl` (docs/kong.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["Schema"]

Schema: tuple[dict[str, Any], ...] = (
    {
        "portal_url": {
            "type": "string",
            "default": None,
            "url": True,
            "description": "Base URL of the developer portal, for the link to the access request page "
            "in refusals (`{portal_url}/{agency}/{api}/`); unset: the platform's AGORA_PORTAL_URL.",
        }
    },
    {
        "allow_sandbox": {
            "type": "boolean",
            "default": True,
            "description": "Let sandbox keys through without a grant: their calls are answered from the "
            "API's examples, never by the agency's upstream, so developers can try the API first.",
        }
    },
)
