"""Per-request state, created once by the pipeline's entry (gateway/pipeline/entry.py).

Every step of the pipeline reads and writes this one object, so a request allocates it once and the
PDK, the proxy and metering agree on what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.engine.http import Headers, Request

if TYPE_CHECKING:
    from gateway.config.compiled import CompiledConfig
    from gateway.config.model import Route, Service

__all__ = ["RequestContext"]


@dataclass(slots=True, eq=False)
class RequestContext:
    request_id: str
    request: Request
    peer: str  # the TCP peer address
    client_ip: str | None = None  # kong.client.get_forwarded_ip, once computed
    started: float = field(default_factory=time.perf_counter)
    config: CompiledConfig | None = None
    service: Service | None = None
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    rest: str = ""  # raw path after the service prefix
    # A CORS preflight routed to the operation it asks about (routing.py): the path's Allow list, for
    # the 405 the plugin runner answers when no plugin (cors) answers it. Empty for other requests.
    preflight: tuple[str, ...] = ()
    consumer: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None
    shared: dict[str, Any] = field(default_factory=dict)  # kong.ctx.shared
    # kong.service.request.set_header: lower-cased name -> (name, value); value None: clear_header (the
    # client's header is not sent upstream)
    upstream_headers: dict[bytes, tuple[str, str | None]] = field(default_factory=dict)
    upstream_query: str | None = None  # kong.service.request.set_raw_query; None: the client's query
    response_headers: Headers = field(default_factory=list)  # kong.response.set_header before the response
    status: int = 0  # 0 until the response starts
    bytes_in: int = 0
    body: bytes | None = (
        None  # the request body, read whole only for a plugin that asked (gateway/pipeline/body.py)
    )
    bytes_out: int = 0
    upstream_latency: float | None = None  # seconds from sending upstream to its response headers
    sandbox: bool = False
    upstream_response_headers: Headers | None = None
    body_error: Exception | None = None  # the request body broke a limit while it streamed upstream
    facts: Any = (
        None  # gateway.pipeline.usage.RequestFacts once computed (after the response), for every reader
    )
