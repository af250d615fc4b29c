"""The plugin development kit: the `kong` object a plugin's phase methods receive.

It has the shape of Kong's PDK (kong-python-pdk: calls return values), restricted to what Agora's
plugins use, so a plugin written against it also runs inside Kong unchanged:

    kong.request   get_header get_headers get_path get_raw_path get_method get_query get_query_arg
                   get_raw_query get_raw_body get_uri_captures get_scheme get_host
    kong.client    get_ip get_forwarded_ip authenticate get_consumer get_credential
    kong.response  exit error set_header set_headers add_header clear_header get_header get_status
    kong.service.request  set_header set_headers clear_header set_raw_query
    kong.router    get_route get_service (a read-only mapping)
    kong.ctx.shared            a dict shared by the plugins of one request
    kong.log       debug info notice warn err crit alert emerg serialize

`kong.agora` is Agora's one addition (absent in Kong): read access to the snapshot's credentials,
consumers and plans, which Kong plugins get from Kong's database instead.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable, Mapping
from functools import lru_cache
from http import HTTPStatus
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from agora.errors import PROBLEM_BASE
from gateway.engine.http import Headers, Request
from gateway.pipeline.context import RequestContext
from gateway.pipeline.headers import TrustedProxies, forwarded_ip

if TYPE_CHECKING:
    from gateway.config.model import Service
    from gateway.pipeline.usage import RequestFacts

__all__ = [
    "Exit",
    "Kong",
    "authenticate",
    "client_ip",
    "header_name",
    "plan_of",
    "service_view",
    "set_headers",
    "set_lines",
]

_log = logging.getLogger("agora.gateway.plugins")


class Exit:
    """What `kong.response.exit` asked for; the plugin runner sends it and skips the upstream."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: Headers) -> None:
        self.status, self.body, self.headers = status, body, headers


_NAMES: dict[str, bytes] = {}  # header name as a plugin writes it -> as it goes on the wire


def header_name(name: str) -> bytes:
    """Lower-cased and encoded once per distinct name: plugins set the same few names on every call."""
    encoded = _NAMES.get(name)
    if encoded is None:
        if len(_NAMES) > 4096:  # names from client input must not grow it without end
            _NAMES.clear()
        encoded = _NAMES[name] = name.lower().encode("latin-1")
    return encoded


def set_headers(target: Headers, headers: dict[str, Any]) -> None:
    """`kong.response.set_headers` on a list of header lines: each one set as by `set_header`, in one
    pass (rate-limiting sets nine on every call). The fast path (fast.py) calls it too."""
    known = _NAMES  # looked up inline: a call of _name per header costs more than the lookup
    encoded = [
        (known.get(name) or header_name(name), str(value).encode("latin-1"))
        for name, value in headers.items()
    ]
    set_lines(target, encoded)


def set_lines(target: Headers, encoded: Headers) -> None:
    """`set_headers` of header lines already encoded (names lower-cased): those of the same names go."""
    if target:
        names = {k for k, _ in encoded}
        if any(k in names for k, _ in target):
            target[:] = [(k, v) for k, v in target if k not in names]
    target.extend(encoded)


def client_ip(ctx: RequestContext, trusted: TrustedProxies) -> str:
    """`kong.client.get_forwarded_ip`: asked by key-auth's guard, rate-limiting and metering, computed
    once a request."""
    if ctx.client_ip is None:
        ctx.client_ip = forwarded_ip(ctx.peer, ctx.request.headers, trusted)
    return ctx.client_ip


def authenticate(
    ctx: RequestContext, consumer: dict[str, Any] | None, credential: dict[str, Any] | None
) -> None:
    """`kong.client.authenticate`: records who is calling, for the plugins after this one and metering."""
    ctx.consumer, ctx.credential = consumer, credential
    ctx.sandbox = bool(credential and credential.get("sandbox"))


def plan_of(ctx: RequestContext, name: str) -> dict[str, Any] | None:
    """`kong.agora.get_plan`: the snapshot's plan of that name."""
    config = ctx.config
    plan = config.snapshot.plans.get(name) if config is not None else None
    return plan if isinstance(plan, dict) else None


def _encode_headers(headers: dict[str, Any] | None) -> Headers:
    return [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in (headers or {}).items()]


class _Request:
    __slots__ = ("_ctx", "_request")

    def __init__(self, ctx: RequestContext, request: Request) -> None:
        self._ctx, self._request = ctx, request

    def get_header(self, name: str) -> str | None:
        key = name.lower().encode("latin-1")
        for k, v in self._request.headers:
            if k == key:
                return str(v.decode("latin-1"))
        return None

    def get_headers(self, max_headers: int = 100) -> dict[str, str | list[str]]:
        raw = self._request.headers[:max_headers]
        # Usually no name repeats: one comprehension; a repeated one gives the list Kong gives.
        simple: dict[str, str | list[str]] = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}
        if len(simple) == len(raw):
            return simple
        out: dict[str, str | list[str]] = {}
        for k, v in raw:
            name, value = k.decode("latin-1"), v.decode("latin-1")
            seen = out.get(name)
            out[name] = value if seen is None else [*(seen if isinstance(seen, list) else [seen]), value]
        return out

    def get_path(self) -> str:
        """The path percent-decoded (Kong's normalized path); `get_raw_path` has it as sent."""
        path = self._request.path
        return unquote(path) if "%" in path else path

    def get_raw_path(self) -> str:
        return self._request.path

    def get_method(self) -> str:
        return self._request.method

    def get_raw_query(self) -> str:
        return self._request.query

    def get_query(self, max_args: int = 100) -> dict[str, str | list[str]]:
        # Kong's semantics: the first `max_args` arguments of a longer query (parse_qs would raise,
        # so any client could turn a plugin's query lookup into a 500).
        if not self._request.query:
            return {}  # most calls (key-auth asks on every one)
        raw = self.get_raw_query()
        first = "&".join(raw.split("&", max_args)[:max_args])
        parsed = parse_qs(first, keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}

    def get_query_arg(self, name: str) -> str | None:
        found = self.get_query().get(name)
        return found[0] if isinstance(found, list) else found

    def get_raw_body(self) -> bytes | None:
        """The request body, read by the gateway before the access phase when a plugin of the route
        declares `body_limit` (gateway/pipeline/body.py); None on other routes, whose bodies stream."""
        return self._ctx.body

    def get_uri_captures(self) -> dict[str, Any]:
        """The route's path parameters, percent-decoded, as Kong's: `{"unnamed": [...], "named": {...}}`."""
        named = {name: unquote(value) for name, value in self._ctx.params.items()}
        return {"unnamed": list(named.values()), "named": named}

    def get_scheme(self) -> str:
        return self._request.scheme

    def get_host(self) -> str:
        host = self.get_header("host") or ""
        return host.rsplit(":", 1)[0] if host and not host.endswith("]") else host


class _Client:
    __slots__ = ("_ctx", "_request", "_trusted")

    def __init__(self, ctx: RequestContext, request: Request, trusted: TrustedProxies) -> None:
        self._ctx, self._request, self._trusted = ctx, request, trusted

    def get_ip(self) -> str:
        return self._ctx.peer

    def get_forwarded_ip(self) -> str:
        return client_ip(self._ctx, self._trusted)

    def authenticate(self, consumer: dict[str, Any] | None, credential: dict[str, Any] | None) -> None:
        """Records who is calling, for the plugins after this one and for metering."""
        authenticate(self._ctx, consumer, credential)

    def get_consumer(self) -> dict[str, Any] | None:
        return self._ctx.consumer

    def get_credential(self) -> dict[str, Any] | None:
        return self._ctx.credential


class _Response:
    __slots__ = ("_kong",)

    def __init__(self, kong: Kong) -> None:
        # A weak reference: a strong one would make a cycle (kong -> response -> kong), so every
        # request's objects would wait for the garbage collector instead of going at once.
        self._kong: Kong = weakref.proxy(kong)

    def exit(self, status: int, body: Any = None, headers: dict[str, Any] | None = None) -> None:
        encoded = _encode_headers(headers)
        if isinstance(body, dict | list):
            payload = json.dumps(body, separators=(",", ":")).encode()
            if not any(k == b"content-type" for k, _ in encoded):
                encoded.append((b"content-type", b"application/json; charset=utf-8"))
        else:
            payload = body.encode() if isinstance(body, str) else bytes(body or b"")
        self._kong.exit = Exit(status, payload, encoded)

    def error(self, status: int, message: str | None = None, headers: dict[str, Any] | None = None) -> None:
        title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        problem = {"type": PROBLEM_BASE + title.lower().replace(" ", "-"), "title": title, "status": status}
        problem["detail"] = message or title
        self.exit(status, problem, {"Content-Type": "application/problem+json", **(headers or {})})

    def _target(self) -> Headers:
        kong = self._kong
        return kong.response_headers if kong.response_headers is not None else kong.context.response_headers

    def set_header(self, name: str, value: Any) -> None:
        key = header_name(name)
        target = self._target()
        for k, _ in target:
            if k == key:  # rare: rebuilt only to replace
                target[:] = [(k, v) for k, v in target if k != key]
                break
        target.append((key, str(value).encode("latin-1")))

    def set_headers(self, headers: dict[str, Any]) -> None:
        set_headers(self._target(), headers)

    def add_header(self, name: str, value: Any) -> None:
        self._target().append((name.lower().encode("latin-1"), str(value).encode("latin-1")))

    def clear_header(self, name: str) -> None:
        """Removes the header from the response (also the upstream's, in the response phase)."""
        key = name.lower().encode("latin-1")
        target = self._target()
        target[:] = [(k, v) for k, v in target if k != key]

    def get_header(self, name: str) -> str | None:
        key = name.lower().encode("latin-1")
        return next((v.decode("latin-1") for k, v in self._target() if k == key), None)

    def get_status(self) -> int:
        return self._kong.context.status or (self._kong.exit.status if self._kong.exit else 0)


class _ServiceRequest:
    __slots__ = ("_ctx",)

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    # ctx.upstream_headers: lower-cased name -> (name as set, value or None): the last call for a name
    # wins whatever its case, and the proxy compares the client's headers without lower-casing them.
    def set_header(self, name: str, value: Any) -> None:
        self._ctx.upstream_headers[header_name(name)] = (name, str(value))

    def set_headers(self, headers: dict[str, Any]) -> None:
        upstream, names = self._ctx.upstream_headers, _NAMES
        for name, value in headers.items():
            upstream[names.get(name) or header_name(name)] = (name, str(value))

    def clear_header(self, name: str) -> None:
        """The header is not sent upstream (also when the client sent it)."""
        self._ctx.upstream_headers[header_name(name)] = (name, None)

    def set_raw_query(self, query: str) -> None:
        """The query string sent upstream instead of the client's (without the leading "?")."""
        self._ctx.upstream_query = query


class _Service:
    __slots__ = ("request",)

    def __init__(self, ctx: RequestContext) -> None:
        self.request = _ServiceRequest(ctx)


@lru_cache(maxsize=1024)
def service_view(service: Service) -> Mapping[str, Any]:
    """Kong's service entity for a snapshot service (its fields minus the routes), once per service of a
    snapshot (services hash by identity)."""
    raw = {k: v for k, v in service.raw.items() if k != "routes"}
    return MappingProxyType({**raw, "id": service.name, "path": service.upstream_path or "/"})


class _Router:
    __slots__ = ("_ctx",)

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    def get_route(self) -> dict[str, Any] | None:
        service, route = self._ctx.service, self._ctx.route
        if service is None or route is None:
            return None
        return {
            **route.raw,
            "id": f"{service.name}:{route.method}:{route.path}",
            "name": route.operation_id or f"{route.method} {route.path}",
            "methods": [route.method],
            "paths": [service.prefix + route.path],
        }

    def get_service(self) -> Mapping[str, Any] | None:
        service = self._ctx.service
        # A read-only view of the entity built once per service: rate-limiting, access-control and
        # metering ask for it on every call, and none of them may change it for the others.
        return service_view(service) if service is not None else None


class _Ctx:
    __slots__ = ("shared",)

    def __init__(self, shared: dict[str, Any]) -> None:
        self.shared = shared


class _Log:
    __slots__ = ("_ctx",)

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    def _emit(self, level: int, args: tuple[Any, ...]) -> None:
        _log.log(level, " ".join(str(a) for a in args), extra={"request_id": self._ctx.request_id})

    def debug(self, *args: Any) -> None:
        self._emit(logging.DEBUG, args)

    def info(self, *args: Any) -> None:
        self._emit(logging.INFO, args)

    def notice(self, *args: Any) -> None:
        self._emit(logging.INFO, args)

    def warn(self, *args: Any) -> None:
        self._emit(logging.WARNING, args)

    def err(self, *args: Any) -> None:
        self._emit(logging.ERROR, args)

    def crit(self, *args: Any) -> None:
        self._emit(logging.CRITICAL, args)

    alert = emerg = crit

    def serialize(self) -> dict[str, Any]:
        """The request's facts (status, latencies, bytes, route, service, consumer), for log plugins."""
        facts: RequestFacts = _facts_of()(self._ctx)
        return facts.as_dict()


@lru_cache(maxsize=1)
def _facts_of() -> Callable[[RequestContext], RequestFacts]:
    # Imported on first use, once: usage imports the runner, which imports this module.
    from gateway.pipeline.usage import facts_of

    return facts_of


class _Agora:
    __slots__ = ("_ctx",)

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    def find_credential(self, prefix: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(consumer, credential) whose credential has this public prefix, from the current snapshot."""
        config = self._ctx.config
        return config.snapshot.credentials.get(prefix) if config is not None else None

    def find_consumer(self, id_or_username: str) -> dict[str, Any] | None:
        """The snapshot's consumer with this id, else this username (as Kong loads `anonymous`).
        A scan of the consumers: callers cache the answer for the snapshot they run under."""
        config = self._ctx.config
        consumers = config.snapshot.consumers if config is not None else ()
        found = next((c for c in consumers if c.get("id") == id_or_username), None)
        return found or next((c for c in consumers if c.get("username") == id_or_username), None)

    def get_plan(self, name: str) -> dict[str, Any] | None:
        return plan_of(self._ctx, name)


class Kong:
    """One per request that has plugins; its parts are created with it (a handful of slots objects).
    None of them refers back to it strongly, so a request's objects are freed as soon as it ends."""

    __slots__ = (
        "__weakref__", "agora", "client", "context", "ctx", "exit", "log", "phase", "request", "response",
        "response_headers", "router", "service",
    )  # fmt: skip

    def __init__(self, ctx: RequestContext, request: Request, trusted: TrustedProxies) -> None:
        self.context = ctx  # Agora's per-request state; `ctx` is Kong's `kong.ctx`
        self.phase = "access"
        self.exit: Exit | None = None
        self.response_headers: Headers | None = None  # the response's own headers, in the response phase
        self.request = _Request(ctx, request)
        self.client = _Client(ctx, request, trusted)
        self.response = _Response(self)
        self.service = _Service(ctx)
        self.router = _Router(ctx)
        self.ctx = _Ctx(ctx.shared)
        self.log = _Log(ctx)
        self.agora = _Agora(ctx)


if TYPE_CHECKING:
    from plugins.pdk import Kong as Contract

    def _conforms(kong: Kong) -> Contract:
        return kong  # mypy checks the gateway's PDK against the plugins' contract here
