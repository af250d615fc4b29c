"""The fast path's contract: what a plugin may offer besides its PDK phases, for Agora's gateway only.

The PDK (plugins/pdk.py) costs a `kong` object and its parts per request, dicts of headers built and
encoded, and the request's facts copied into a dict: in Agora's gateway that was most of what
key-auth, access-control, rate-limiting and usage-metering cost together. A plugin may therefore also
offer `fast_path(host, service) -> FastPath | None`, called once per route and snapshot: steps that
take the request's opaque `state` and read and write it through `host`, a `Host` the gateway builds
once. The gateway runs a route's fast steps instead of its PDK phases when every plugin of the route
offered them (gateway/pipeline/fast.py); Kong never calls `fast_path` (plugins/kong/ serves the PDK
phases only).

The fast path covers a plugin's common case and nothing else. A step returns True when it did the
plugin's whole access phase, or False, having changed nothing, when the PDK phase must decide this
request (a refusal, a key seen for the first time, a sliding window...): the gateway then builds the
`kong` object and runs the PDK access phases from that plugin on. A step that must wait for an answer
(rate-limiting's Redis policy) returns an awaitable of that True or False: an asyncio future, which the
gateway carries on from in the future's callback, without a task (gateway/pipeline/direct.py), or any
other awaitable, which it awaits in the request's task.
The host writes the same per-request state the PDK writes, so the hand-over is exact, and the steps
call the same functions the PDK phases call: a behaviour is written once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from gateway.pipeline.usage import RequestFacts

__all__ = ["AccessStep", "FastPath", "Host", "LogStep", "State", "UpstreamHeaders"]

State = Any  # the gateway's per-request state; a plugin hands it to the host, never reads it
# True: done; False: nothing changed, the PDK phase decides; or an awaitable of either
AccessStep = Callable[[State], bool | Awaitable[bool]]
LogStep = Callable[[State], None]
UpstreamHeaders = Any  # upstream headers as the host prepared them


class FastPath(NamedTuple):
    access: AccessStep | None = None
    log: LogStep | None = None


class Host(Protocol):
    """The gateway's side; each call does what the PDK call of the same meaning does."""

    def method(self, state: State) -> str: ...  # kong.request.get_method
    def raw_query(self, state: State) -> str: ...  # kong.request.get_raw_query
    def header_lines(self, state: State) -> list[tuple[bytes, bytes]]: ...  # names lower-cased
    def forwarded_ip(self, state: State) -> str: ...  # kong.client.get_forwarded_ip
    def consumer(self, state: State) -> dict[str, Any] | None: ...  # kong.client.get_consumer
    def credential(self, state: State) -> dict[str, Any] | None: ...  # kong.client.get_credential
    def authenticate(
        self, state: State, consumer: dict[str, Any] | None, credential: dict[str, Any] | None
    ) -> None: ...  # kong.client.authenticate
    def shared(self, state: State) -> dict[str, Any]: ...  # kong.ctx.shared
    def get_plan(self, state: State, name: str) -> dict[str, Any] | None: ...  # kong.agora.get_plan
    # kong.service.request.set_header for each name, clear_header where the value is None: prepared
    # once (`upstream_headers`), set on each request
    def upstream_headers(self, headers: Mapping[str, str | None]) -> UpstreamHeaders: ...
    def set_upstream_headers(self, state: State, headers: UpstreamHeaders) -> None: ...
    # kong.response.set_headers of header lines (names lower-cased), for a plugin that renders them once
    def set_response_lines(self, state: State, lines: list[tuple[bytes, bytes]]) -> None: ...
    def facts(self, state: State) -> RequestFacts: ...  # kong.log.serialize, as the tuple it copies
