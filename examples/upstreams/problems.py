"""RFC 9457 problem documents, the one error shape every example upstream answers with.

The gateway's own errors are problem documents too, so a client cannot tell which side failed from
the shape alone; the `instance` member (the request path) and `X-Request-ID` tell it instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["PROBLEM_JSON", "Problem", "ProblemResponse", "handle_exception"]

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raised by an endpoint to answer with a problem document.

    `errors` lists `{"name": ..., "reason": ...}` per offending parameter or body field, so a client
    can show every mistake at once instead of one per round trip.
    """

    def __init__(self, status: int, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        instance: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # "about:blank" says the HTTP status is the whole story (RFC 9457 section 4.2.1).
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
        }
        if instance is not None:
            body["instance"] = instance
        if errors:
            body["errors"] = errors
        super().__init__(body, status_code=status, headers=headers)


def handle_exception(request: Request, exc: Exception) -> Response:
    """Exception handler for `Problem` and Starlette's own `HTTPException` (unknown path, wrong method)."""
    path = request.url.path
    if isinstance(exc, Problem):
        return ProblemResponse(exc.status, exc.detail, instance=path, errors=exc.errors)
    if isinstance(exc, HTTPException):
        detail = exc.detail
        if exc.status_code == 404:
            detail = f"Nothing is published at {path}."
        elif exc.status_code == 405 and exc.headers:
            detail = f"{request.method} is not allowed on {path}; allowed: {exc.headers.get('Allow', '')}."
        # 405 must keep its Allow header; other HTTPException headers are kept for the same reason.
        return ProblemResponse(exc.status_code, detail, instance=path, headers=exc.headers)
    return ProblemResponse(500, "The service failed to answer.", instance=path)
