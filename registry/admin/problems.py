"""RFC 9457 problem documents: the one place errors become HTTP responses."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from agora.errors import PROBLEM_BASE, AgoraError

__all__ = ["agora_error_handler", "http_error_handler", "problem", "unexpected_error_handler"]

log = logging.getLogger("agora.admin")


def problem(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=int(body["status"]),
        media_type="application/problem+json",
        headers=headers,
    )


async def agora_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AgoraError)
    headers = {"WWW-Authenticate": 'Bearer realm="agora-admin"'} if exc.status == 401 else None
    return problem(exc.problem(instance=request.url.path), headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    body = {
        "type": PROBLEM_BASE
        + {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error"),
        "title": titles.get(exc.status_code, "HTTP error"),
        "status": exc.status_code,
        "detail": f"{request.method} {request.url.path}: {exc.detail}",
        "instance": request.url.path,
    }
    return problem(body, dict(exc.headers) if exc.headers else None)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = {
        "type": PROBLEM_BASE + "internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; it has been logged",
        "instance": request.url.path,
    }
    return problem(body)
