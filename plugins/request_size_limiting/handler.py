"""`request-size-limiting`: refuses request bodies over a size, with Kong's fields and messages.

A declared Content-Length over the limit is answered 413 before anything else is read. A body
without Content-Length (Transfer-Encoding: chunked) cannot be judged in advance, and the gateway
never buffers bodies: the plugin lowers the request's streaming limit instead
(`kong.ctx.shared["agora.max_body_bytes"]`, which the gateway's proxy counts the body against), so
such a body is cut off with 413 once it passes the limit. As Kong's (kong/plugins/
request-size-limiting/handler.lua, 3.9): `require_content_length` answers 411 to a request with
neither a valid Content-Length nor chunked transfer coding (a request without a body included), and a
declared length over the limit with `Expect: 100-continue` gets 417 instead of 413, telling the client
not to send the body it is waiting to send.
"""

from __future__ import annotations

from typing import Any

from agora.errors import InvalidInput

from .schema import UNITS, Schema

__all__ = [
    "CTX_MAX_BODY_BYTES",
    "ERR_LENGTH_REQUIRED",
    "ERR_TOO_LARGE",
    "PRIORITY",
    "VERSION",
    "Plugin",
    "Schema",
    "priority",
    "version",
]

PRIORITY = 951  # Kong's request-size-limiting: after authentication, before rate-limiting
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_TOO_LARGE = "Request size limit exceeded"
ERR_LENGTH_REQUIRED = "A valid Content-Length header is required"
_EXPECT_CONTINUE = "100-continue"
# Read by gateway/pipeline/forward.py: the streamed request body is cut off with 413 beyond this many bytes.
CTX_MAX_BODY_BYTES = "agora.max_body_bytes"


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        if config["allowed_payload_size"] < 0:
            raise InvalidInput("request-size-limiting: allowed_payload_size must not be negative")
        self.limit: int = config["allowed_payload_size"] * UNITS[config["size_unit"]]
        self.require_content_length: bool = config["require_content_length"]

    def access(self, kong: Any) -> None:
        declared = kong.request.get_header("content-length")
        if declared is not None and declared.strip().isdigit():
            if int(declared) > self.limit:
                expect = (kong.request.get_header("expect") or "").strip().lower()
                kong.response.error(417 if expect == _EXPECT_CONTINUE else 413, ERR_TOO_LARGE)
            return
        coding = kong.request.get_header("transfer-encoding")
        chunked = coding is not None and coding.split(",")[-1].strip().lower() == "chunked"
        if self.require_content_length and not chunked:
            kong.response.error(411, ERR_LENGTH_REQUIRED)
            return
        if coding is not None:
            kong.ctx.shared[CTX_MAX_BODY_BYTES] = self.limit
