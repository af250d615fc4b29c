"""A route's fast path: its plugins' fast steps (plugins/fast.py) instead of their PDK phases.

Built once per route and snapshot (route.py) when every plugin of the route's chain offered a fast path
for that route (`fast_path(host, service)` returned one), no plugin reads the body, and none has a
response phase. Per request the access steps run in priority order on the request's `RequestContext`
(the steps' `state`); a step that declines hands the request over to the PDK from that plugin on
(route.py builds the `kong` object then), so a refusal or any case a step does not cover is answered by
the PDK phase itself. When every access step passed, the log steps run after the answer instead of the
log phases.

`FastHost` is the one `plugins.fast.Host`: each method is the PDK call of the same meaning, most of them
the very function the PDK calls (pdk.py), on the same state, so the two paths cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gateway.config.model import Service
from gateway.engine.http import Headers
from gateway.pipeline.context import RequestContext
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.pdk import authenticate, client_ip, header_name, plan_of, service_view, set_lines
from gateway.pipeline.plugin_host import Chain
from gateway.pipeline.usage import RequestFacts, facts_of
from plugins.fast import AccessStep, FastPath, LogStep

__all__ = ["FastChain", "FastHost", "fast_chain"]

Overrides = dict[bytes, tuple[str, str | None]]  # RequestContext.upstream_headers' shape


class FastHost:
    """`plugins.fast.Host` over the gateway's `RequestContext`. One per trusted-proxy setting."""

    __slots__ = ("trusted",)

    def __init__(self, trusted: TrustedProxies) -> None:
        self.trusted = trusted

    def method(self, state: RequestContext) -> str:
        return state.request.method

    def raw_query(self, state: RequestContext) -> str:
        return state.request.query

    def header_lines(self, state: RequestContext) -> Headers:
        return state.request.headers

    def forwarded_ip(self, state: RequestContext) -> str:
        return client_ip(state, self.trusted)

    def consumer(self, state: RequestContext) -> dict[str, Any] | None:
        return state.consumer

    def credential(self, state: RequestContext) -> dict[str, Any] | None:
        return state.credential

    def authenticate(
        self, state: RequestContext, consumer: dict[str, Any] | None, credential: dict[str, Any] | None
    ) -> None:
        authenticate(state, consumer, credential)

    def shared(self, state: RequestContext) -> dict[str, Any]:
        return state.shared

    def get_plan(self, state: RequestContext, name: str) -> dict[str, Any] | None:
        return plan_of(state, name)

    def upstream_headers(self, headers: Mapping[str, str | None]) -> Overrides:
        """As `kong.service.request.set_header` / `clear_header` store them (pdk.py)."""
        return {header_name(name): (name, value) for name, value in headers.items()}

    def set_upstream_headers(self, state: RequestContext, headers: Overrides) -> None:
        state.upstream_headers.update(headers)

    def set_response_lines(self, state: RequestContext, lines: Headers) -> None:
        set_lines(state.response_headers, lines)

    def facts(self, state: RequestContext) -> RequestFacts:
        return facts_of(state)


class FastChain:
    """A route's fast steps, in the chain's order; `access[i]` belongs to the PDK's `chain.access[i]`."""

    __slots__ = ("access", "log")

    def __init__(self, access: tuple[AccessStep, ...], log: tuple[tuple[str, LogStep], ...]) -> None:
        self.access, self.log = access, log


def fast_chain(chain: Chain, service: Service, host: FastHost) -> FastChain | None:
    """The route's fast chain, or None when one of its plugins has no fast path for it."""
    if not chain.plugins or chain.body_limit or chain.response:
        return None
    view = service_view(service)
    access: list[AccessStep] = []
    log: list[tuple[str, LogStep]] = []
    for plugin in chain.plugins:
        offer = getattr(plugin.instance, "fast_path", None)
        found: FastPath | None = offer(host, view) if offer is not None else None
        if found is None:
            return None
        # Each phase the PDK runs needs its fast step, and the other way round.
        if (found.access is None) != (plugin.access is None) or (found.log is None) != (plugin.log is None):
            return None
        if found.access is not None:
            access.append(found.access)
        if found.log is not None:
            log.append((plugin.name, found.log))
    return FastChain(tuple(access), tuple(log))


if TYPE_CHECKING:
    from plugins.fast import Host

    def _conforms(host: FastHost) -> Host:
        return host  # mypy checks the gateway's host against the plugins' contract here
