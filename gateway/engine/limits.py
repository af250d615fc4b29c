"""What the HTTP server grants one client connection, in the spirit of nginx's `client_header_timeout`,
`client_body_timeout`, `keepalive_timeout`, `keepalive_requests` and `large_client_header_buffers`:

    head_timeout        a request head (line + headers) not complete this many seconds after the
                        connection or its first byte                                        408, closed
    body_timeout        a request body that stalls this long between two pieces (while the server
                        reads it)                              408 if the answer has not started, else cut
    keepalive_timeout   idle time allowed between two requests                               closed
    send_timeout        a client that reads nothing of its answer for this long while the server
                        waits to write more (nginx's send_timeout)          cut, its handler cancelled
    max_requests        requests served on one connection; the last one says `connection: close`
    max_url_bytes       longest request target                                              414, closed
    max_header_bytes    bytes of header fields (name + value + 4 each, trailers counted)     431, closed
    max_headers         number of header fields                                             431, closed

`Limits.from_env()` reads each from `AGORA_HTTP_*` (the names the uvicorn-based protocol used for the
first four); a value that is not a positive number is an error naming its variable, not a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["ENV", "Limits"]

# field -> environment variable
ENV = {
    "head_timeout": "AGORA_HTTP_HEAD_TIMEOUT",
    "body_timeout": "AGORA_HTTP_BODY_TIMEOUT",
    "keepalive_timeout": "AGORA_HTTP_KEEPALIVE_TIMEOUT",
    "send_timeout": "AGORA_HTTP_SEND_TIMEOUT",
    "max_requests": "AGORA_HTTP_MAX_REQUESTS",
    "max_url_bytes": "AGORA_HTTP_MAX_URL_BYTES",
    "max_header_bytes": "AGORA_HTTP_MAX_HEADER_BYTES",
    "max_headers": "AGORA_HTTP_MAX_HEADERS",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    # nginx's default; longer than the 60 s idle timeout of common load balancers in front, so the
    # balancer, not the gateway, closes an idle pooled connection (no race on a request in flight).
    keepalive_timeout: float = 75.0
    send_timeout: float = 60.0
    max_requests: int = 1000
    max_url_bytes: int = 8 * 1024
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{field.name} must be a positive number, not {value!r}")
            if field.type == "int" and not isinstance(value, int):
                raise ValueError(f"{field.name} must be a whole number, not {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits with each `AGORA_HTTP_*` variable that is set (and not empty) applied."""
        environ = os.environ if environ is None else environ
        given: dict[str, float | int] = {}
        for field in fields(cls):
            name = ENV[field.name]
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            try:
                value: float | int = int(raw) if field.type == "int" else float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a positive number, not {raw!r}") from None
            if not value > 0 or value != value or value == float("inf"):
                raise ValueError(f"{name} must be a positive number, not {raw!r}")
            given[field.name] = value
        return cls(**given)  # type: ignore[arg-type]

    @property
    def tick(self) -> float:
        """How often the server checks its connections' deadlines: fine enough that a timeout fires
        within a fifth of itself, and at most once a second (a scan of every connection)."""
        shortest = min(self.head_timeout, self.body_timeout, self.keepalive_timeout, self.send_timeout)
        return min(1.0, max(0.02, shortest / 5))
