"""The compiled route table: `/{prefix}{path}` + method -> (service, route, path parameters).

Lookup never scans the registry. A request costs one dict lookup per distinct prefix depth (all
services share one depth today: `/{agency}/{api}/v{major}`), then either one dict lookup for a
static path (the common case) or a walk down a segment trie, O(segments) with dict lookups per
level. Static segments win over templated ones, as OpenAPI requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from gateway.config.model import Route, Service

__all__ = ["Match", "RouteTable"]

_PARAM = re.compile(r"\{([^{}/]+)\}")


class _Node:
    __slots__ = ("methods", "param", "patterns", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.patterns: list[tuple[re.Pattern[str], _Node]] = []
        self.methods: dict[str, Route] = {}


class _ServiceRoutes:
    __slots__ = ("root", "service", "static")

    def __init__(self, service: Service) -> None:
        self.service = service
        self.static: dict[str, dict[str, Route]] = {}
        self.root = _Node()
        for route in service.routes:
            if "{" not in route.path:
                self.static.setdefault(route.path, {})[route.method] = route
            self._insert(route)

    def _insert(self, route: Route) -> None:
        node = self.root
        for segment in route.path.split("/")[1:]:
            if "{" not in segment:
                node = node.static.setdefault(segment, _Node())
            elif _PARAM.fullmatch(segment):
                node.param = node.param or _Node()
                node = node.param
            else:  # text around parameters inside one segment: "{name}.{ext}", "v{n}"
                regex = "".join(
                    "([^/]+?)" if i % 2 else re.escape(part) for i, part in enumerate(_PARAM.split(segment))
                )
                pattern = re.compile(regex)
                found = next((child for p, child in node.patterns if p.pattern == regex), None)
                if found is None:
                    found = _Node()
                    node.patterns.append((pattern, found))
                node = found
        node.methods[route.method] = route


@dataclass(slots=True)
class Match:
    """What routing found. `route` is None when the path is unknown (`allow` empty) or the method
    is not offered there (`allow` lists the methods that are)."""

    service: Service
    route: Route | None
    rest: str  # the raw (still percent-encoded) path after the prefix
    params: dict[str, str]
    allow: tuple[str, ...] = ()


def _methods(node: _Node, method: str) -> Route | None:
    route = node.methods.get(method)
    if route is None and method == "HEAD":
        route = node.methods.get("GET")
    return route


class RouteTable:
    """Immutable once built; a new snapshot builds a new table and swaps it in whole."""

    __slots__ = ("_by_prefix", "_depths", "_static", "size")

    def __init__(self, services: tuple[Service, ...] | list[Service]) -> None:
        self._by_prefix: dict[str, _ServiceRoutes] = {s.prefix: _ServiceRoutes(s) for s in services}
        # Full path -> (service, method -> route): a static path costs one dict lookup, no slicing.
        self._static: dict[str, tuple[Service, dict[str, Route]]] = {
            entry.service.prefix + path: (entry.service, by_method)
            for entry in self._by_prefix.values()
            for path, by_method in entry.static.items()
        }
        self._depths = tuple(sorted({s.prefix.count("/") for s in services}, reverse=True))
        self.size = sum(len(s.routes) for s in services)

    def service(self, path: str) -> tuple[_ServiceRoutes, str] | None:
        for depth in self._depths:
            cut = 0
            for _ in range(depth):
                cut = path.find("/", cut + 1)
                if cut < 0:
                    break
            prefix, rest = (path, "") if cut < 0 else (path[:cut], path[cut:])
            if cut < 0 and path.count("/") != depth:
                continue
            found = self._by_prefix.get(prefix)
            if found is not None:
                return found, rest
        return None

    def lookup(self, method: str, path: str) -> Match | None:
        """`path` is the raw request path (percent-encoded, no query). None: no API at this prefix."""
        static = self._static.get(path)
        if static is not None:
            service, by_method = static
            route = by_method.get(method) or (by_method.get("GET") if method == "HEAD" else None)
            if route is not None:
                return Match(service, route, path[len(service.prefix) :], {})
        found = self.service(path)
        if found is None:
            return None
        routes, rest = found
        segments = [unquote(s) if "%" in s else s for s in rest.split("/")[1:]] if rest else []
        values: list[str] = []
        first: list[_Node] = []
        leaf = _walk(routes.root, segments, 0, method, values, first)
        if leaf is None:
            allow = tuple(sorted(first[0].methods)) if first else ()
            return Match(routes.service, None, rest, {}, allow)
        route = _methods(leaf, method)
        assert route is not None
        return Match(routes.service, route, rest, dict(zip(route.param_names, values, strict=False)))


def _walk(
    node: _Node, segments: list[str], i: int, method: str, values: list[str], first: list[_Node]
) -> _Node | None:
    """Depth-first, static before templated; `first` keeps the first path-only match for a 405."""
    if i == len(segments):
        if not node.methods:
            return None
        if _methods(node, method) is not None:
            return node
        if not first:
            first.append(node)
        return None
    segment = segments[i]
    child = node.static.get(segment)
    if child is not None:
        leaf = _walk(child, segments, i + 1, method, values, first)
        if leaf is not None:
            return leaf
    if not segment:
        return None
    if node.param is not None:
        values.append(segment)
        leaf = _walk(node.param, segments, i + 1, method, values, first)
        if leaf is not None:
            return leaf
        values.pop()
    for pattern, child in node.patterns:
        matched = pattern.fullmatch(segment)
        if matched is not None:
            values.extend(matched.groups())
            leaf = _walk(child, segments, i + 1, method, values, first)
            if leaf is not None:
                return leaf
            del values[len(values) - len(matched.groups()) :]
    return None
