"""The answers the HTTP server gives by itself, before or instead of the handler, under `agora.errors`:

    AgoraError (agora.errors)          500  the handler failed before its answer started
    ├── BadRequest (gateway.errors)    400  llhttp refused the bytes, or the head breaks RFC 9112
    ├── RequestTimeout                 408  the head or the body did not arrive in time (limits.py)
    ├── TargetTooLong                  414  the request target is over max_url_bytes
    ├── HeadersTooLarge                431  header fields over max_header_bytes or max_headers
    └── VersionNotSupported            505  neither HTTP/1.0 nor HTTP/1.1

Each is an RFC 9457 problem document with `connection: close`: after any of them the server closes.
"""

from __future__ import annotations

import json

from agora.errors import AgoraError
from gateway.errors import BadRequest  # the gateway's own 400, one class for the engine and the pipeline

__all__ = [
    "BadRequest",
    "HeadersTooLarge",
    "RequestTimeout",
    "TargetTooLong",
    "VersionNotSupported",
    "refusal_bytes",
]

_PROBLEM_TYPE = b"content-type: application/problem+json\r\n"
_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    505: b"HTTP Version Not Supported",
}


class RequestTimeout(AgoraError):
    status, slug, title = 408, "request-timeout", "Request timeout"


class TargetTooLong(AgoraError):
    status, slug, title = 414, "uri-too-long", "Request target too long"


class HeadersTooLarge(AgoraError):
    status, slug, title = 431, "header-fields-too-large", "Request header fields too large"


class VersionNotSupported(AgoraError):
    status, slug, title = 505, "http-version-not-supported", "HTTP version not supported"


def refusal_bytes(error: AgoraError, *, head_only: bool = False) -> bytes:
    """The whole answer, status line to body, ready for one `transport.write`."""
    body = json.dumps(error.problem(), separators=(",", ":")).encode()
    head = b"HTTP/1.1 %d %s\r\n%scontent-length: %d\r\nconnection: close\r\n\r\n" % (
        error.status,
        _REASONS.get(error.status, b""),
        _PROBLEM_TYPE,
        len(body),
    )
    return head if head_only else head + body
