"""The `kong` object Agora's plugins receive inside Kong: the contract of plugins/pdk.py over Kong's PDK.

Each call is one MessagePack-RPC round trip to Kong through kong-pdk (`kong.request.get_header(n)`
blocks until Kong answers). What differs between Kong and Agora's gateway is translated here, once:

- multi-maps: Kong sends every header and query value as a list (`plugin.StepMultiMap`); a single
  value becomes the string the gateway gives, an argument without value (`?flag`) becomes "";
- `response.exit` encodes dict bodies as the gateway does, and `response.error` answers the gateway's
  problem document (Kong's own would be `{"message": ...}`);
- consumers and credentials: `client.authenticate` hands Kong the Kong consumer the export made for
  the application (id, username, custom_id; never a digest or a prefix), and `get_consumer` /
  `get_credential` map Kong's entities back to the snapshot's, with their grants, plan and sandbox flag;
- `router.get_service` / `get_route` and `request.get_uri_captures` answer with the snapshot's service,
  operation and parameter names, as the gateway does;
- `kong.agora.*` reads the snapshot file (plugins/kong/snapshot.py);
- `kong.ctx.shared` is Kong's (`kong.ctx.shared.get/set`), so plugins in other servers see it.

After `kong.response.exit` Kong stops the event (kong-pdk sends no answer any more): a later call
raises `AfterExit` instead of blocking its thread forever.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from agora.errors import PROBLEM_BASE
from registry.compile.kong_routes import CAPTURE_PATH, capture_names

from .serialize import facts_from_kong
from .snapshot import SnapshotView

__all__ = ["AfterExit", "Bridge", "KongFacade", "encode_exit"]


class AfterExit(Exception):
    """A PDK call after `kong.response.exit`: Kong no longer listens for this event."""


class Bridge:
    """Calls `kong.<namespace>.<method>(*args)` on kong-pdk's object; remembers whether the event exited."""

    __slots__ = ("calls", "exited", "kong")

    def __init__(self, kong: Any) -> None:
        self.kong, self.exited, self.calls = kong, False, 0

    def call(self, method: str, *args: Any) -> Any:
        if self.exited:
            raise AfterExit(method)
        target = self.kong
        for part in method.split(".")[1:]:
            target = getattr(target, part)
        self.calls += 1
        return target(*args)

    def exit(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        if self.exited:
            return  # the first answer stands
        self.call("kong.response.exit", status, body, headers)
        self.exited = True


def _single(values: Any) -> dict[str, str | list[str]]:
    """Kong's multi-map -> the gateway's: one value as a string, repeated values as a list."""
    out: dict[str, str | list[str]] = {}
    for name, value in (values or {}).items():
        if isinstance(value, list):
            items = [str(v) for v in value]
            out[str(name)] = items[0] if len(items) == 1 else (items or "")
        else:
            out[str(name)] = "" if value is True else str(value)
    return out


def encode_exit(status: int, body: Any, headers: dict[str, Any] | None) -> tuple[int, bytes, dict[str, str]]:
    """What the gateway's `kong.response.exit` sends: dicts and lists as compact JSON."""
    out = {str(k): str(v) for k, v in (headers or {}).items()}
    if isinstance(body, dict | list):
        payload = json.dumps(body, separators=(",", ":")).encode()
        if not any(k.lower() == "content-type" for k in out):
            out["Content-Type"] = "application/json; charset=utf-8"
    else:
        payload = body.encode() if isinstance(body, str) else bytes(body or b"")
    return status, payload, out


def problem(status: int, message: str | None) -> dict[str, Any]:
    """The gateway's `kong.response.error` document (gateway/pipeline/pdk.py)."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {
        "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": message or title,
    }


class _Request:
    __slots__ = ("_facade",)

    def __init__(self, facade: KongFacade) -> None:
        self._facade = facade

    def _call(self, method: str, *args: Any) -> Any:
        return self._facade.bridge.call("kong.request." + method, *args)

    def get_header(self, name: str) -> str | None:
        value = self._call("get_header", name)
        return None if value is None else str(value)

    def get_headers(self, max_headers: int = 100) -> dict[str, str | list[str]]:
        return _single(self._call("get_headers", max_headers))

    def get_path(self) -> str:
        return str(self._call("get_path"))

    def get_raw_path(self) -> str:
        return str(self._call("get_raw_path"))

    def get_method(self) -> str:
        return str(self._call("get_method"))

    def get_raw_query(self) -> str:
        return str(self._call("get_raw_query") or "")

    def get_query(self, max_args: int = 100) -> dict[str, str | list[str]]:
        return _single(self._call("get_query", max_args))

    def get_query_arg(self, name: str) -> str | None:
        found = self.get_query().get(name)
        return found[0] if isinstance(found, list) else found

    def get_raw_body(self) -> bytes | None:
        body = self._call("get_raw_body")
        return body.encode("latin-1") if isinstance(body, str) else body

    def get_uri_captures(self) -> dict[str, Any]:
        """The operation's parameters by their spec names (Kong's groups are sanitised names)."""
        captures = self._call("get_uri_captures") or {}
        named = {str(k): str(v) for k, v in (captures.get("named") or {}).items() if k != CAPTURE_PATH}
        found = self._facade.operation()
        if found is not None:
            params = list(found[1].param_names)
            named = {p: unquote(named.get(c, "")) for p, c in zip(params, capture_names(params), strict=True)}
        return {"unnamed": list(named.values()), "named": named}

    def get_scheme(self) -> str:
        return str(self._call("get_scheme"))

    def get_host(self) -> str:
        return str(self._call("get_host"))


class _Client:
    __slots__ = ("_consumer", "_credential", "_facade", "_known")

    def __init__(self, facade: KongFacade) -> None:
        self._facade = facade
        self._known = False  # whether this event already knows the caller (authenticated or asked)
        self._consumer: dict[str, Any] | None = None
        self._credential: dict[str, Any] | None = None

    def get_ip(self) -> str:
        return str(self._facade.bridge.call("kong.client.get_ip"))

    def get_forwarded_ip(self) -> str:
        return str(self._facade.bridge.call("kong.client.get_forwarded_ip"))

    def authenticate(self, consumer: dict[str, Any] | None, credential: dict[str, Any] | None) -> None:
        view = self._facade.view
        kong_consumer = None
        if consumer is not None:
            app_id = str(consumer.get("id", ""))
            username = view.kong_usernames.get(app_id, str(consumer.get("username", "")))
            kong_consumer = self._kong_consumer(app_id, username)
        kong_credential: dict[str, Any] | None = None
        if credential is not None:
            kong_credential = {"id": str(credential.get("id", ""))}
            if kong_consumer is not None and kong_consumer.get("id"):
                kong_credential["consumer"] = {"id": kong_consumer["id"]}
        self._facade.bridge.call("kong.client.authenticate", kong_consumer, kong_credential)
        self._known, self._consumer, self._credential = True, consumer, credential

    def _kong_consumer(self, app_id: str, username: str) -> dict[str, Any]:
        """The export keeps a UUID application id as the Kong consumer id; any other id makes Kong
        generate one, which only Kong can tell (`load_consumer` by username)."""
        try:
            return {"id": str(uuid.UUID(app_id)), "username": username, "custom_id": app_id}
        except ValueError:
            loaded = self._facade.bridge.call("kong.client.load_consumer", username, True)
            return dict(loaded) if loaded else {"username": username, "custom_id": app_id}

    def _ask(self) -> None:
        if self._known:
            return
        view, call = self._facade.view, self._facade.bridge.call
        kong_consumer = call("kong.client.get_consumer")
        if kong_consumer:
            key = str(kong_consumer.get("custom_id") or kong_consumer.get("id") or "")
            self._consumer = view.consumers.get(key) or dict(kong_consumer)
        kong_credential = call("kong.client.get_credential")
        if kong_credential:
            cid = str(kong_credential.get("id") or "")
            self._credential = view.credentials.get(cid) or dict(kong_credential)
        self._known = True

    def get_consumer(self) -> dict[str, Any] | None:
        self._ask()
        return self._consumer

    def get_credential(self) -> dict[str, Any] | None:
        self._ask()
        return self._credential


class _Response:
    __slots__ = ("_bridge",)

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def exit(self, status: int, body: Any = None, headers: dict[str, Any] | None = None) -> None:
        self._bridge.exit(*encode_exit(status, body, headers))

    def error(self, status: int, message: str | None = None, headers: dict[str, Any] | None = None) -> None:
        self.exit(
            status, problem(status, message), {"Content-Type": "application/problem+json", **(headers or {})}
        )

    def set_header(self, name: str, value: Any) -> None:
        self._bridge.call("kong.response.set_header", name, str(value))

    def set_headers(self, headers: dict[str, Any]) -> None:
        self._bridge.call("kong.response.set_headers", {str(k): str(v) for k, v in headers.items()})

    def add_header(self, name: str, value: Any) -> None:
        self._bridge.call("kong.response.add_header", name, str(value))

    def clear_header(self, name: str) -> None:
        self._bridge.call("kong.response.clear_header", name)

    def get_header(self, name: str) -> str | None:
        value = self._bridge.call("kong.response.get_header", name)
        return None if value is None else str(value)

    def get_status(self) -> int:
        return int(self._bridge.call("kong.response.get_status") or 0)


class _ServiceRequest:
    __slots__ = ("_bridge",)

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def set_header(self, name: str, value: Any) -> None:
        self._bridge.call("kong.service.request.set_header", name, str(value))

    def set_headers(self, headers: dict[str, Any]) -> None:
        self._bridge.call("kong.service.request.set_headers", {str(k): str(v) for k, v in headers.items()})

    def clear_header(self, name: str) -> None:
        self._bridge.call("kong.service.request.clear_header", name)

    def set_raw_query(self, query: str) -> None:
        self._bridge.call("kong.service.request.set_raw_query", query)


class _Service:
    __slots__ = ("request",)

    def __init__(self, bridge: Bridge) -> None:
        self.request = _ServiceRequest(bridge)


class _Router:
    __slots__ = ("_facade",)

    def __init__(self, facade: KongFacade) -> None:
        self._facade = facade

    def get_route(self) -> dict[str, Any] | None:
        """The gateway's route table (gateway/pipeline/pdk.py) for the snapshot operation of Kong's route."""
        found = self._facade.operation()
        if found is None:
            return self._facade.kong_route()
        service, route = found
        return {
            **route.raw,
            "id": f"{service.name}:{route.method}:{route.path}",
            "name": route.operation_id or f"{route.method} {route.path}",
            "methods": [route.method],
            "paths": [service.prefix + route.path],
        }

    def get_service(self) -> dict[str, Any] | None:
        kong_service = self._facade.kong_service()
        if kong_service is None:
            return None
        service = self._facade.view.services.get(str(kong_service.get("name")))
        if service is None:
            # Not from Agora's snapshot: agency and api from the export's tags, if any.
            tags = dict(str(t).partition(":")[::2] for t in kong_service.get("tags") or ())
            return {**kong_service, "agency": tags.get("agency"), "api": tags.get("api")}
        raw = {k: v for k, v in service.raw.items() if k != "routes"}
        return {**raw, "id": service.name, "path": service.upstream_path or "/"}


class SharedCtx:
    """`kong.ctx.shared` as a small dict-like over Kong's `kong.ctx.shared.get/set`."""

    __slots__ = ("_bridge",)

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def get(self, key: str, default: Any = None) -> Any:
        value = self._bridge.call("kong.ctx.shared.get", key)
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._bridge.call("kong.ctx.shared.set", key, value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


class _Ctx:
    __slots__ = ("shared",)

    def __init__(self, bridge: Bridge) -> None:
        self.shared = SharedCtx(bridge)


class _Log:
    __slots__ = ("_facade",)

    def __init__(self, facade: KongFacade) -> None:
        self._facade = facade

    def _level(self, level: str) -> Callable[..., None]:
        def emit(*args: Any) -> None:
            self._facade.bridge.call("kong.log." + level, *(str(a) for a in args))

        return emit

    def __getattr__(self, level: str) -> Callable[..., None]:
        if level in ("debug", "info", "notice", "warn", "err", "crit", "alert", "emerg"):
            return self._level(level)
        raise AttributeError(level)

    def serialize(self) -> dict[str, Any]:
        """Kong's log serializer (a JSON text over the RPC) as the gateway's request facts."""
        raw = self._facade.bridge.call("kong.log.serialize")
        data = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw or {})
        return facts_from_kong(data, self._facade.view)


class _Agora:
    __slots__ = ("_view",)

    def __init__(self, view: SnapshotView) -> None:
        self._view = view

    def find_credential(self, prefix: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return self._view.find_credential(prefix)

    def find_consumer(self, id_or_username: str) -> dict[str, Any] | None:
        return self._view.find_consumer(id_or_username)

    def get_plan(self, name: str) -> dict[str, Any] | None:
        return self._view.get_plan(name)


class KongFacade:
    """One per event: built from kong-pdk's `kong` and the snapshot view current at the event's start."""

    __slots__ = (
        "_kong_route", "_kong_service", "_operation", "agora", "bridge", "client", "ctx", "log",
        "request", "response", "router", "service", "view",
    )  # fmt: skip

    def __init__(self, kong: Any, view: SnapshotView) -> None:
        self.bridge = Bridge(kong)
        self.view = view
        self.request = _Request(self)
        self.client = _Client(self)
        self.response = _Response(self.bridge)
        self.service = _Service(self.bridge)
        self.router = _Router(self)
        self.ctx = _Ctx(self.bridge)
        self.log = _Log(self)
        self.agora = _Agora(view)
        self._kong_route: dict[str, Any] | bool | None = False  # False: not asked yet
        self._kong_service: dict[str, Any] | bool | None = False
        self._operation: tuple[Any, Any] | bool | None = False

    def kong_route(self) -> dict[str, Any] | None:
        if self._kong_route is False:
            found = self.bridge.call("kong.router.get_route")
            self._kong_route = dict(found) if found else None
        return self._kong_route if isinstance(self._kong_route, dict) else None

    def kong_service(self) -> dict[str, Any] | None:
        if self._kong_service is False:
            found = self.bridge.call("kong.router.get_service")
            self._kong_service = dict(found) if found else None
        return self._kong_service if isinstance(self._kong_service, dict) else None

    def operation(self) -> tuple[Any, Any] | None:
        """(snapshot Service, Route) of Kong's route, or None when the route is not Agora's."""
        if self._operation is False:
            route = self.kong_route()
            self._operation = self.view.routes.get(str(route.get("name"))) if route else None
        return self._operation if isinstance(self._operation, tuple) else None


if TYPE_CHECKING:
    from plugins.pdk import Kong as Contract

    def _conforms(kong: KongFacade) -> Contract:
        return kong  # mypy checks Kong's side of the PDK against the plugins' contract here
