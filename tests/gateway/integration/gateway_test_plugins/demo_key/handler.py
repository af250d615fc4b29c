"""A tiny key check written against the PDK only (plaintext prefixes; the real key-auth is elsewhere)."""

from __future__ import annotations

from typing import Any

Schema = ({"header_name": {"type": "string", "default": "x-key"}},)
version = "0.1.0"
priority = 1000


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.header = config["header_name"]

    def access(self, kong: Any) -> None:
        key = kong.request.get_header(self.header)
        found = kong.agora.find_credential(key) if key else None
        if found is None:
            kong.response.exit(401, {"message": "missing or unknown key"})
            return
        consumer, credential = found
        kong.client.authenticate(consumer, credential)
        kong.service.request.set_header("X-Consumer-Username", consumer["username"])
