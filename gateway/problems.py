"""Errors -> RFC 9457 problem documents. Any `AgoraError` raised inside becomes its problem response;
anything else becomes a 500 problem and a log line with the request id. Once the response has
started nothing can be said any more, so the connection is broken off instead (the client sees a
truncated body, never a wrong one).
"""

from __future__ import annotations

import logging

from agora.errors import AgoraError

from .context import context_of
from .errors import problem_response
from .types import ASGIApp, Receive, Scope, Send

__all__ = ["ProblemMiddleware"]

log = logging.getLogger("agora.gateway")


class ProblemMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except AgoraError as error:
            ctx = context_of(scope)
            if ctx.status:
                raise
            await problem_response(
                send,
                error,
                instance=scope.get("path"),
                request_id=ctx.request_id,
            )
        except Exception:
            ctx = context_of(scope)
            log.exception("unexpected error in request %s", ctx.request_id)
            if ctx.status:
                raise
            await problem_response(
                send, AgoraError("the gateway failed; quote the request id"), request_id=ctx.request_id
            )
