"""The skeleton every example upstream shares: `/health`, request id echo, problem documents."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from examples.upstreams.problems import Problem, handle_exception
from examples.upstreams.request_id import RequestIdMiddleware

__all__ = ["create_app"]


def create_app(service: str, routes: Sequence[BaseRoute]) -> Starlette:
    """Wrap one service's routes; `service` names it in `/health` so a misrouted call is easy to spot."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": service})

    return Starlette(
        routes=[Route("/health", health, methods=["GET"]), *routes],
        middleware=[Middleware(RequestIdMiddleware)],
        # Exception (500) is handled by Starlette's outermost ServerErrorMiddleware: still a problem
        # document, though without the request id, which is set further in.
        exception_handlers={
            Problem: handle_exception,
            HTTPException: handle_exception,
            Exception: handle_exception,
        },
    )
