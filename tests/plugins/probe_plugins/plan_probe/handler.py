"""`plan-probe`: answers with `X-Plan`, the plan left in `kong.ctx.shared["agora.plan"]`, where
rate-limiting (priority 910) reads it."""

from __future__ import annotations

from typing import Any

from plugins import CTX_PLAN

Schema = ()
version = "0.1.0"
priority = 910


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def response(self, kong: Any) -> None:
        kong.response.set_header("X-Plan", kong.ctx.shared.get(CTX_PLAN) or "none")
