"""The plugin registry: plugin name -> class, discovered from `plugins/<name>/handler.py`.

A plugin module has Kong's Python shape: it exposes `Plugin` (constructed with its config dict;
optional `access(kong)`, `response(kong)`, `log(kong)` methods, sync or async), `Schema`,
`version` ("x.y.z") and `priority` (higher runs first). `plugins/key_auth/` is the plugin
"key-auth" (folder names cannot hold a dash). A sync phase method returns None (as Kong's do), or a
coroutine when this call has to wait (rate-limiting with Redis), which the runner then awaits: the
common call costs no coroutine. It must not do I/O on the event loop itself: it is run in a worker
thread when the class sets `run_in_thread = True`.

`Schema` is Kong's field list, `({"field": {"type": ..., "default": ..., "required": bool}}, ...)`;
the host applies defaults and checks types and required fields before constructing the plugin.

A module may also expose `shutdown()` (sync or async; Agora's addition, Kong ignores it): the gateway
calls it once on a graceful stop, after the last request, so a plugin can flush what it buffers.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from agora.errors import InvalidInput
from gateway.config.model import PluginConfig, Route, Service

__all__ = ["Chain", "PhaseCall", "PluginInstance", "PluginRegistry", "PluginSpec", "apply_schema"]

_VERSION = re.compile(r"\d+\.\d+\.\d+")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list, tuple),
    "set": (list, tuple),
    "map": (dict,),
    "record": (dict,),
}
# A phase: a coroutine function, or a plain function called on the event loop (it returns None; the
# runner awaits only what returns an awaitable, so a sync phase costs no coroutine of its own).
PhaseCall = Callable[[Any], Awaitable[None] | None]
log = logging.getLogger("agora.gateway.plugins")


def apply_schema(schema: Iterable[dict[str, Any]], config: dict[str, Any], where: str) -> dict[str, Any]:
    """Kong-style field list -> validated config with defaults filled in."""
    out = dict(config)
    known: set[str] = set()
    for entry in schema:
        for field, rules in entry.items():
            known.add(field)
            if field not in out and "default" in rules:
                out[field] = rules["default"]
            value = out.get(field)
            if value is None:
                if rules.get("required"):
                    raise InvalidInput(f"{where}: {field!r} is required")
                continue
            types = _TYPES.get(str(rules.get("type", "")))
            if types and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
                raise InvalidInput(f"{where}: {field!r} must be of type {rules['type']}")
            if "one_of" in rules and value not in rules["one_of"]:
                raise InvalidInput(f"{where}: {field!r} must be one of {rules['one_of']}")
    unknown = set(out) - known
    if known and unknown:
        raise InvalidInput(f"{where}: unknown field(s) {sorted(unknown)}")
    return out


@dataclass(frozen=True, slots=True)
class PluginSpec:
    name: str
    plugin: type
    schema: tuple[dict[str, Any], ...]
    version: str
    priority: int
    shutdown: Callable[[], Any] | None = None

    @classmethod
    def from_module(cls, name: str, module: ModuleType | Any) -> PluginSpec:
        missing = [a for a in ("Plugin", "Schema", "version", "priority") if not hasattr(module, a)]
        if missing:
            raise InvalidInput(f"plugin {name!r}: handler lacks {', '.join(missing)}")
        version = str(module.version)
        if not _VERSION.fullmatch(version):
            raise InvalidInput(f"plugin {name!r}: version {version!r} is not x.y.z")
        shutdown = getattr(module, "shutdown", None)
        return cls(
            name, module.Plugin, tuple(module.Schema or ()), version, int(module.priority),
            shutdown if callable(shutdown) else None,
        )  # fmt: skip


def _phase(instance: Any, name: str, in_thread: bool) -> PhaseCall | None:
    method = getattr(instance, name, None)
    if method is None:
        return None
    if inspect.iscoroutinefunction(method):
        return method  # type: ignore[no-any-return]
    if in_thread:

        async def threaded(kong: Any) -> None:
            await asyncio.to_thread(method, kong)

        return threaded
    return method  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True, eq=False)
class PluginInstance:
    name: str
    priority: int
    instance: Any
    access: PhaseCall | None
    response: PhaseCall | None
    log: PhaseCall | None
    body_limit: int = (
        0  # > 0: the plugin reads the request body (gateway/pipeline/body.py), up to this many bytes
    )


@dataclass(frozen=True, slots=True, eq=False)
class Chain:
    """A route's plugins, highest priority first, with each phase's calls listed once per snapshot
    rather than looked for on every request."""

    plugins: tuple[PluginInstance, ...]
    access: tuple[PhaseCall, ...]
    response: tuple[PhaseCall, ...]
    log: tuple[tuple[str, PhaseCall], ...]  # (plugin name, call): a failing log phase is named
    body_limit: int  # the largest a plugin of the chain asked for; 0: the body streams

    @classmethod
    def of(cls, plugins: Iterable[PluginInstance]) -> Chain:
        ordered = tuple(sorted(plugins, key=lambda p: (-p.priority, p.name)))
        return cls(
            ordered,
            tuple(p.access for p in ordered if p.access is not None),
            tuple(p.response for p in ordered if p.response is not None),
            tuple((p.name, p.log) for p in ordered if p.log is not None),
            max((p.body_limit for p in ordered), default=0),
        )

    def __iter__(self) -> Iterator[PluginInstance]:
        return iter(self.plugins)

    def __getitem__(self, index: int) -> PluginInstance:
        return self.plugins[index]

    def __len__(self) -> int:
        return len(self.plugins)


class PluginRegistry:
    def __init__(self, specs: Iterable[PluginSpec] = ()) -> None:
        self.specs = {spec.name: spec for spec in specs}

    @classmethod
    def discover(cls, package: str = "plugins") -> PluginRegistry:
        """Every `<package>/<folder>/handler.py`; a folder without one (like `host/`) is skipped."""
        registry = cls()
        root = importlib.import_module(package)
        for info in pkgutil.iter_modules(getattr(root, "__path__", [])):
            if not info.ispkg:
                continue
            try:
                module = importlib.import_module(f"{package}.{info.name}.handler")
            except ModuleNotFoundError as exc:
                if exc.name == f"{package}.{info.name}.handler":
                    continue
                raise
            registry.register(info.name.replace("_", "-"), module)
        return registry

    def register(self, name: str, module: ModuleType | Any) -> None:
        self.specs[name] = PluginSpec.from_module(name, module)

    async def shutdown(self) -> None:
        """Each plugin module's `shutdown()`; a sync one runs in a thread (it may join threads or do I/O)."""
        for spec in self.specs.values():
            if spec.shutdown is None:
                continue
            try:
                if inspect.iscoroutinefunction(spec.shutdown):
                    await spec.shutdown()
                else:
                    await asyncio.to_thread(spec.shutdown)
            except Exception:
                log.exception("shutdown of plugin %s failed", spec.name)

    def instantiate(self, config: PluginConfig, where: str) -> PluginInstance:
        spec = self.specs.get(config.name)
        if spec is None:
            raise InvalidInput(f"{where}: unknown plugin {config.name!r}")
        validated = apply_schema(spec.schema, config.config, f"{where} plugin {config.name!r}")
        instance = spec.plugin(validated)
        in_thread = bool(getattr(spec.plugin, "run_in_thread", False))
        return PluginInstance(
            name=spec.name,
            priority=spec.priority,
            instance=instance,
            access=_phase(instance, "access", in_thread),
            response=_phase(instance, "response", in_thread),
            log=_phase(instance, "log", in_thread),
            body_limit=int(getattr(instance, "body_limit", 0) or 0),
        )

    def chains(self, services: Iterable[Service]) -> dict[Route, Chain]:
        """Per route, its service's plugins overridden by its own (same name), highest priority first.

        A service-level plugin is one instance shared by the service's routes, as in Kong.
        """
        out: dict[Route, Chain] = {}
        for service in services:
            shared = {p.name: self.instantiate(p, f"service {service.name!r}") for p in service.plugins}
            for route in service.routes:
                merged = dict(shared)
                for p in route.plugins:
                    merged[p.name] = self.instantiate(p, f"route {route.method} {service.prefix}{route.path}")
                if merged:
                    out[route] = Chain.of(merged.values())
        return out
