"""Errors the gateway answers with, added under the one tree of `agora.errors`.

    AgoraError (agora.errors)            500
    ├── NotFound (agora.errors)          404  no API or operation at this path
    ├── BadRequest                       400  the path is malformed or tries to escape its API
    ├── MethodNotAllowed                 405  the path exists, not with this method (`Allow` header)
    ├── Gone                             410  the version is retired (points at its successor)
    ├── PayloadTooLarge                  413  the body is larger than the API accepts
    ├── NotImplementedHere               501  sandbox call to an operation without an example
    ├── BadGateway                       502  the upstream refused the connection or broke the exchange
    ├── UpstreamUnavailable              503  the upstream's circuit is open (`Retry-After`; circuit.py)
    └── GatewayTimeout                   504  the upstream did not answer in time

`problem` is the one place where an error becomes bytes on the wire (RFC 9457).
"""

from __future__ import annotations

import json
from typing import Any

from agora.errors import AgoraError
from gateway.engine.http import Headers

__all__ = [
    "BadGateway",
    "BadRequest",
    "GatewayTimeout",
    "Gone",
    "MethodNotAllowed",
    "NotImplementedHere",
    "PayloadTooLarge",
    "UpstreamUnavailable",
    "problem",
]

PROBLEM_JSON = b"application/problem+json"


class BadRequest(AgoraError):
    status, slug, title = 400, "bad-request", "Bad request"


class MethodNotAllowed(AgoraError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"

    def __init__(self, detail: str, allow: tuple[str, ...]) -> None:
        super().__init__(detail)
        self.allow = allow

    def extensions(self) -> dict[str, Any]:
        return {"allow": list(self.allow)}


class Gone(AgoraError):
    status, slug, title = 410, "gone", "Version retired"

    def __init__(self, detail: str, successor: str | None) -> None:
        super().__init__(detail)
        self.successor = successor

    def extensions(self) -> dict[str, Any]:
        return {"successor": self.successor}


class PayloadTooLarge(AgoraError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class NotImplementedHere(AgoraError):
    status, slug, title = 501, "no-sandbox-example", "No sandbox answer for this operation"


class BadGateway(AgoraError):
    status, slug, title = 502, "bad-gateway", "Upstream unreachable"


class UpstreamUnavailable(AgoraError):
    status, slug, title = 503, "upstream-unavailable", "Upstream unavailable"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class GatewayTimeout(AgoraError):
    status, slug, title = 504, "gateway-timeout", "Upstream timed out"


def error_headers(error: AgoraError) -> Headers:
    """Headers an error carries besides its body (`Allow` on 405, `Link` to a successor on 410,
    `Retry-After` on 503)."""
    if isinstance(error, MethodNotAllowed):
        return [(b"allow", ", ".join(error.allow).encode("latin-1"))]
    if isinstance(error, Gone) and error.successor:
        return [(b"link", f'<{error.successor}>; rel="successor-version"'.encode("latin-1"))]
    if isinstance(error, UpstreamUnavailable):
        return [(b"retry-after", str(error.retry_after).encode())]
    return []


def problem(
    error: AgoraError, *, instance: str | None = None, request_id: str | None = None
) -> tuple[int, Headers, bytes]:
    """The error as an answer: status, headers (without content-length: the engine adds it), body."""
    body = error.problem(instance)
    if request_id is not None:
        body["request_id"] = request_id
    payload = json.dumps(body, separators=(",", ":")).encode()
    return error.status, [(b"content-type", PROBLEM_JSON), *error_headers(error)], payload
