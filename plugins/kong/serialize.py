"""Kong's log serializer entry (`kong.log.serialize()`) as the gateway's request facts.

Log plugins (usage-metering) read `gateway.pipeline.usage.RequestFacts.as_dict()`. Kong's entry has the same
facts under other names: `latencies.request` / `latencies.proxy` in ms, `started_at` in ms, the
route and service as Kong entities (named by the export), the consumer with the application id as
`custom_id`, the credential only as `authenticated_entity`.
"""

from __future__ import annotations

from typing import Any

from .snapshot import SnapshotView

__all__ = ["facts_from_kong"]


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def facts_from_kong(entry: dict[str, Any], view: SnapshotView) -> dict[str, Any]:
    request, response = entry.get("request") or {}, entry.get("response") or {}
    latencies = entry.get("latencies") or {}
    kong_route, kong_service = entry.get("route") or {}, entry.get("service") or {}
    found = view.routes.get(str(kong_route.get("name"))) if kong_route else None
    route = None
    if found is not None:
        operation = found[1]
        route = operation.operation_id or f"{operation.method} {operation.path}"
    consumer = entry.get("consumer") or {}
    credential = entry.get("authenticated_entity") or {}
    upstream = latencies.get("proxy")
    upstream_ms = float(upstream) if isinstance(upstream, int | float) and upstream >= 0 else None
    headers = request.get("headers") or {}
    request_id = headers.get("x-request-id") or request.get("id") or ""
    return {
        "request_id": str(request_id[0] if isinstance(request_id, list) else request_id),
        "method": str(request.get("method") or ""),
        "path": str(request.get("uri") or "").partition("?")[0],
        "status": _int(response.get("status")),
        "service": str(kong_service["name"]) if kong_service.get("name") else None,
        "route": route,
        "consumer": str(consumer.get("custom_id") or consumer.get("id")) if consumer else None,
        "credential": str(credential["id"]) if credential.get("id") else None,
        "client_ip": str(entry.get("client_ip") or ""),
        "bytes_in": _int(request.get("size")),
        "bytes_out": _int(response.get("size")),
        "latency_total_ms": float(latencies.get("request") or 0),
        "latency_upstream_ms": upstream_ms,
        "sandbox": bool((view.credentials.get(str(credential.get("id"))) or {}).get("sandbox")),
        "started_at": float(entry.get("started_at") or 0) / 1000,
    }
