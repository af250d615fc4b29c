"""One snapshot service as a Kong service with its routes and plugins.

published, deprecated   proxied; a deprecated service adds Deprecation/Sunset/Link headers
retired                 every route answers 410 Gone (a problem document naming the successor)
                        through `request-termination`, before any authentication
sandbox-only            (`upstream: null`) every route answers its `sandbox` response through
                        `request-termination`, after the service's plugins (a key is still needed)
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from agora.errors import InvalidInput
from gateway.pipeline.sandbox import sample_from_schema
from registry.compile.kong_plugins import AUTH_PLUGINS, Scope, kong_plugin, problem, size_limit
from registry.compile.kong_routes import route_path, upstream_uri

__all__ = ["route_names", "service"]

# Services without an upstream still need a URL; request-termination answers before Kong connects.
_NO_UPSTREAM = "http://{}.agora.invalid"
_KONG_NAME = re.compile(r"[A-Za-z0-9._~-]+")


def _milliseconds(seconds: Any) -> int:
    return round(float(seconds) * 1000)


def _http_date(value: Any, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"kong export: {where} is not an ISO 8601 date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _successor(doc: dict[str, Any], prefixes: dict[str, str]) -> str | None:
    """As the gateway reads it: a path or URL as is, otherwise the name of a service."""
    successor = doc.get("successor")
    if not successor:
        return None
    text = str(successor)
    return text if text.startswith(("/", "http://", "https://")) else prefixes.get(text)


def _lifecycle_headers(doc: dict[str, Any], successor: str | None, where: str) -> list[str]:
    """The gateway's (gateway/pipeline/lifecycle.py): RFC 9745 Deprecation, RFC 8594 Sunset and a Link to the
    changelog and successor, as `name:value` for response-transformer."""
    headers = []
    if doc.get("status") == "deprecated":
        since = doc.get("deprecated_at")  # none: "already deprecated", @0 as the gateway says
        headers.append(f"Deprecation:@{int(_http_date(since, where).timestamp()) if since else 0}")
    if doc.get("sunset"):
        sunset = _http_date(doc["sunset"], where).astimezone(UTC)
        headers.append(f"Sunset:{format_datetime(sunset, usegmt=True)}")
    links = []
    if doc.get("changelog"):
        links.append(f'<{doc["changelog"]}>; rel="deprecation"; type="text/html"')
    if successor:
        links.append(f'<{successor}>; rel="successor-version"')
    if links and headers:
        headers.append("Link:" + ", ".join(links))
    return headers


def _termination(status: int, content_type: str, body: Any) -> dict[str, Any]:
    if not 100 <= status <= 599:
        raise InvalidInput(f"kong export: {status} is not an HTTP status")
    config: dict[str, Any] = {"status_code": status}
    if body is not None:
        if not isinstance(body, str) or "json" in content_type:  # as gateway/pipeline/sandbox.py encodes it
            body = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        config.update(content_type=content_type, body=body)
    return {"name": "request-termination", "config": config}


def _sandbox_answer(route: dict[str, Any]) -> dict[str, Any]:
    sandbox = route.get("sandbox")
    if not isinstance(sandbox, dict):
        detail = f"{route['method']} {route['path']} has no example to answer from"
        body = problem(501, "no-sandbox-example", "No sandbox answer for this operation", detail)
        return _termination(501, "application/problem+json", body)
    content_type = str(sandbox.get("content_type") or "application/json")
    example: Any = sandbox.get("body")
    if "body" not in sandbox and "schema" in sandbox:
        # The gateway's own sample: a pure function of the schema, so generating it here answers
        # what the gateway answers, and Kong needs no plugin server for it.
        example = sample_from_schema(sandbox["schema"])
    return _termination(int(sandbox.get("status") or 200), content_type, example)


def _retired_answer(doc: dict[str, Any], successor: str | None) -> dict[str, Any]:
    detail = f"{doc['name']} has been retired" + (f"; use {successor}" if successor else "")
    body = problem(410, "gone", "Version retired", detail, successor=successor)
    return _termination(410, "application/problem+json", body)


def route_names(service: str, routes: list[dict[str, Any]]) -> list[str]:
    """Kong route names, in the order of `routes` (sorted by path, then method, as exported); the
    Python plugin servers use the same names to find a Kong route's operation in the snapshot."""
    names, taken = [], set()
    for route in routes:
        slug = re.sub(r"[^A-Za-z0-9._~-]", "-", str(route.get("operation_id") or ""))
        if not slug:
            slug = str(route["method"]).lower() + re.sub(r"[^A-Za-z0-9]+", "-", str(route["path"])).rstrip(
                "-"
            )
        name, n = f"{service}.{slug}", 1
        while name in taken:
            n += 1
            name = f"{service}.{slug}-{n}"
        taken.add(name)
        names.append(name)
    return names


def _methods(routes: list[dict[str, Any]], cors: list[bool]) -> list[list[str]]:
    """Each route's methods: its own, HEAD with GET (as the gateway answers HEAD from the GET route),
    and OPTIONS on one route per path where CORS applies, so preflights reach the cors plugin."""
    declared: dict[str, set[str]] = defaultdict(set)
    for route in routes:
        declared[str(route["path"])].add(str(route["method"]).upper())
    preflight_done: set[str] = set()
    out = []
    for route, has_cors in zip(routes, cors, strict=True):
        path, method = str(route["path"]), str(route["method"]).upper()
        methods = {method}
        if method == "GET" and "HEAD" not in declared[path]:
            methods.add("HEAD")
        if has_cors and "OPTIONS" not in declared[path] and path not in preflight_done:
            methods.add("OPTIONS")
            preflight_done.add(path)
        out.append(sorted(methods))
    return out


def _plugins(
    entries: list[dict[str, Any]], scope: Scope, everywhere: bool, tags: list[str], where: str
) -> list[dict[str, Any]]:
    plugins = [p for e in entries if (p := kong_plugin(e, scope, python_everywhere=everywhere, tags=tags))]
    names = [p["name"] for p in plugins]
    if len(set(names)) != len(names):
        raise InvalidInput(f"kong export: {where} would get one Kong plugin twice: {sorted(names)}")
    return sorted(plugins, key=lambda p: str(p["name"]))


def _service_plugins(
    doc: dict[str, Any], scope: Scope, everywhere: bool, tags: list[str], successor: str | None
) -> list[dict[str, Any]]:
    name, status, access = str(doc["name"]), str(doc.get("status") or "published"), str(doc.get("access"))
    if status == "retired":
        return [{**_retired_answer(doc, successor), "tags": tags}]  # answered before any authentication
    entries = [dict(e) for e in doc.get("plugins") or ()]
    listed = {str(e.get("name")) for e in entries}
    if access in ("key", "restricted") and not listed & AUTH_PLUGINS:
        entries.append({"name": "key-auth", "config": {"key_names": ["apikey"]}})
    if access == "restricted" and "access-control" not in listed:
        entries.append({"name": "access-control", "config": {}})
    plugins = _plugins(entries, scope, everywhere, tags, f"service {name!r}")
    # What the gateway does from service fields rather than plugin entries: bundled, in both modes.
    if "request-size-limiting" not in listed and doc.get("max_body_bytes"):
        limit = size_limit(int(doc["max_body_bytes"]))
        plugins.append({"name": "request-size-limiting", "config": limit, "tags": tags})
    headers = _lifecycle_headers(doc, successor, f"service {name!r}")
    if doc.get("upstream") is None:
        headers.append("X-Agora-Sandbox:true")
    if headers:
        plugins.append(
            {"name": "response-transformer", "config": {"add": {"headers": headers}}, "tags": tags}
        )
    return sorted(plugins, key=lambda p: str(p["name"]))


def _routes(doc: dict[str, Any], scope: Scope, everywhere: bool, tags: list[str]) -> list[dict[str, Any]]:
    name, prefix, upstream = str(doc["name"]), str(doc["prefix"]), doc.get("upstream")
    retired = doc.get("status") == "retired"
    routes_in = sorted(doc.get("routes") or (), key=lambda r: (str(r["path"]), str(r["method"]).upper()))
    service_cors = any(e.get("name") == "cors" for e in doc.get("plugins") or ())
    cors = [service_cors or any(p.get("name") == "cors" for p in r.get("plugins") or ()) for r in routes_in]
    base_path = urlsplit(str(upstream)).path if upstream else ""
    routes = []
    for route, route_name, methods in zip(
        routes_in, route_names(name, routes_in), _methods(routes_in, cors), strict=True
    ):
        rp = route_path(prefix, str(route["path"]))
        plugins = (
            [] if retired else _plugins(list(route.get("plugins") or ()), scope, everywhere, tags, route_name)
        )
        if retired:
            pass
        elif upstream is None:
            plugins.append({**_sandbox_answer(route), "tags": tags})
        else:
            replace = {"uri": upstream_uri(base_path, str(route["path"]), rp.templated)}
            plugins.append({"name": "request-transformer", "config": {"replace": replace}, "tags": tags})
        routes.append(
            {
                "name": route_name,
                "methods": methods,
                "paths": [rp.path],
                "protocols": ["http", "https"],
                "regex_priority": rp.priority,
                "strip_path": False,
                "preserve_host": False,
                "request_buffering": True,
                "response_buffering": False,
                "tags": tags,
                "plugins": sorted(plugins, key=lambda p: str(p["name"])),
            }
        )
    return routes


def service(
    doc: dict[str, Any], backend: dict[str, Any], everywhere: bool, prefixes: dict[str, str]
) -> dict[str, Any]:
    """The Kong service for snapshot service `doc`. `backend` is rate-limiting's policy (and Redis);
    `prefixes` maps service names to prefixes, to resolve a successor given by name."""
    name, agency, api = (str(doc[k]) for k in ("name", "agency", "api"))
    if not _KONG_NAME.fullmatch(name):
        raise InvalidInput(f"kong export: service name {name!r} is not a valid Kong name")
    upstream, retired = doc.get("upstream"), doc.get("status") == "retired"
    tags = ["agora", f"agency:{agency}", f"api:{api}"]
    scope = Scope(agency=agency, api=api, open_access=doc.get("access") == "open", rate_limit_backend=backend)
    timeouts = doc.get("timeouts") or {}
    return {
        "name": name,
        "url": str(upstream) if upstream else _NO_UPSTREAM.format("retired" if retired else "sandbox"),
        "connect_timeout": _milliseconds(timeouts.get("connect", 5.0)),
        "read_timeout": _milliseconds(timeouts.get("read", 30.0)),
        "write_timeout": _milliseconds(timeouts.get("write", timeouts.get("read", 30.0))),
        "retries": 0,  # the agency's timeouts bound the wait; Kong would otherwise retry 5 times
        "tags": tags,
        "routes": _routes(doc, scope, everywhere, tags),
        "plugins": _service_plugins(doc, scope, everywhere, tags, _successor(doc, prefixes)),
    }
