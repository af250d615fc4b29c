"""Exercises every phase: async access, response headers, and a log phase that runs after the response."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

Schema = (
    {"tag": {"type": "string", "required": True}},
    {"log_file": {"type": "string", "default": ""}},
    {"log_delay": {"type": "number", "default": 0}},
)
version = "1.0.0"
priority = 10


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    async def access(self, kong: Any) -> None:
        await asyncio.sleep(0)
        kong.ctx.shared["order"] = [*kong.ctx.shared.get("order", []), "tagger"]
        kong.response.set_header("X-Tag", self.config["tag"])

    def response(self, kong: Any) -> None:
        consumer = kong.client.get_consumer()
        kong.response.set_header("X-Consumer", consumer["username"] if consumer else "anonymous")
        kong.response.set_header("X-Upstream-Status", kong.response.get_status())

    async def log(self, kong: Any) -> None:
        await asyncio.sleep(self.config["log_delay"])
        if self.config["log_file"]:
            with Path(self.config["log_file"]).open("a") as handle:
                handle.write(json.dumps(kong.log.serialize()) + "\n")
