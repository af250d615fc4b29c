"""The snapshot (docs/snapshot.md) read into typed, immutable objects, validated once per revision.

Only what the data plane needs is typed; each object keeps its source dict (`raw`) so the PDK can hand
plugins the same table Kong would (`kong.router.get_route()`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from agora.errors import InvalidInput

__all__ = ["PluginConfig", "Route", "Service", "Snapshot", "Timeouts", "parse_snapshot"]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_WRITE_TIMEOUT = 30.0
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
_PARAM = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = DEFAULT_READ_TIMEOUT
    write: float = DEFAULT_WRITE_TIMEOUT  # the upstream taking the request body (each wait for its socket)


@dataclass(frozen=True, slots=True)
class PluginConfig:
    name: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    operation_id: str
    method: str
    path: str
    param_names: tuple[str, ...]
    plugins: tuple[PluginConfig, ...]
    sandbox: dict[str, Any] | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class Service:
    name: str
    prefix: str
    upstream_origin: str | None  # "http://host:port", None for a sandbox-only version
    upstream_path: str  # base path on the upstream, "" or "/base" (no trailing slash)
    status: str
    sunset: datetime | None
    deprecated_at: datetime | None
    successor: str | None
    changelog: str | None
    timeouts: Timeouts
    max_body_bytes: int
    plugins: tuple[PluginConfig, ...]
    routes: tuple[Route, ...]
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    id: str
    services: tuple[Service, ...]
    consumers: tuple[dict[str, Any], ...]
    plans: dict[str, Any]
    revision: int | None = None
    credentials: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)


def _required(doc: dict[str, Any], key: str, where: str) -> Any:
    if key not in doc:
        raise InvalidInput(f"snapshot: {where} has no {key!r}")
    return doc[key]


def _instant(value: Any, where: str) -> datetime | None:
    """An ISO 8601 date/time or a Unix timestamp; a bare date means midnight UTC."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"snapshot: {where} is not a date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _plugins(items: Any, where: str) -> tuple[PluginConfig, ...]:
    out = []
    for item in items or ():
        name = _required(item, "name", where)
        out.append(PluginConfig(name=str(name), config=dict(item.get("config") or {})))
    return tuple(out)


def _route(doc: dict[str, Any], where: str) -> Route:
    path = str(_required(doc, "path", where))
    if not path.startswith("/"):
        raise InvalidInput(f"snapshot: {where} path {path!r} does not start with '/'")
    return Route(
        operation_id=str(doc.get("operation_id") or ""),
        method=str(_required(doc, "method", where)).upper(),
        path=path,
        param_names=tuple(_PARAM.findall(path)),
        plugins=_plugins(doc.get("plugins"), where),
        sandbox=doc.get("sandbox"),
        raw=doc,
    )


def _upstream(value: Any, where: str) -> tuple[str | None, str]:
    if value is None:
        return None, ""
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"snapshot: {where} upstream {value!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def _service(doc: dict[str, Any]) -> Service:
    name = str(_required(doc, "name", "a service"))
    where = f"service {name!r}"
    prefix = str(_required(doc, "prefix", where)).rstrip("/")
    if not prefix.startswith("/") or "{" in prefix:
        raise InvalidInput(f"snapshot: {where} prefix {prefix!r} must be a static absolute path")
    origin, base = _upstream(doc.get("upstream"), where)
    timeouts = doc.get("timeouts") or {}
    routes = tuple(_route(r, f"{where} route {i}") for i, r in enumerate(doc.get("routes") or ()))
    return Service(
        name=name,
        prefix=prefix,
        upstream_origin=origin,
        upstream_path=base,
        status=str(doc.get("status") or "published"),
        sunset=_instant(doc.get("sunset"), f"{where} sunset"),
        deprecated_at=_instant(doc.get("deprecated_at"), f"{where} deprecated_at"),
        successor=doc.get("successor"),
        changelog=doc.get("changelog"),
        timeouts=Timeouts(
            connect=float(timeouts.get("connect", DEFAULT_CONNECT_TIMEOUT)),
            read=float(timeouts.get("read", DEFAULT_READ_TIMEOUT)),
            # As the Kong export does (registry/compile/kong_services.py): write defaults to read.
            write=float(timeouts.get("write", timeouts.get("read", DEFAULT_WRITE_TIMEOUT))),
        ),
        max_body_bytes=int(doc.get("max_body_bytes") or DEFAULT_MAX_BODY_BYTES),
        plugins=_plugins(doc.get("plugins"), where),
        routes=routes,
        raw=doc,
    )


def parse_snapshot(doc: dict[str, Any], revision: int | None = None) -> Snapshot:
    """Validate and type a snapshot document; raises `InvalidInput` on the first defect."""
    if not isinstance(doc, dict) or doc.get("format") != 1:
        raise InvalidInput("snapshot: unsupported or missing 'format' (expected 1)")
    services = tuple(_service(s) for s in doc.get("services") or ())
    seen: set[str] = set()
    for service in services:
        if service.prefix in seen:
            raise InvalidInput(f"snapshot: two services share the prefix {service.prefix!r}")
        seen.add(service.prefix)
    consumers = tuple(doc.get("consumers") or ())
    credentials: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for consumer in consumers:
        for credential in consumer.get("credentials") or ():
            credentials[str(credential.get("prefix"))] = (consumer, credential)
    return Snapshot(
        id=str(doc.get("id") or ""),
        services=services,
        consumers=consumers,
        plans=dict(doc.get("plans") or {}),
        revision=revision,
        credentials=credentials,
    )
