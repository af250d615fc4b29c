"""Usage records in: the gateway's metering batches and Kong's http-log entries -> `usage_records`.

Two input shapes, one table:

    Agora batch     {"records": [{request_id, at, agency, api, version, operation_id, application_id,
                                  credential_id, status, latency_ms, upstream_latency_ms, bytes_in,
                                  bytes_out, client_ip}, ...]}
    Kong http-log   [{request, response, latencies, service, route, consumer, authenticated_entity,
                      client_ip, started_at, ...}, ...]   (Kong's log serializer, batched by its queue)

Writing is idempotent on `request_id` (a retried batch inserts nothing twice) and client addresses are
always truncated here (IPv4 /24, IPv6 /48), whatever the sender did. Bodies and secrets are never
read: only the fields above are kept.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import semver
from sqlalchemy import Insert, Table, select
from sqlalchemy.orm import Session

from agora.errors import InvalidInput
from registry.models import Agency, Api, ApiVersion, UsageRecord, VersionStatus
from registry.services.idempotent_insert import idempotent_insert, insert_new

__all__ = [
    "MAX_BATCH", "USAGE_COLUMNS", "IngestResult", "from_kong", "ingest", "record_usage", "truncate_ip",
    "usage_insert", "validate",
]  # fmt: skip

MAX_BATCH = 10_000  # records per request: Kong's queue sends 200, the gateway's metering fewer
_STRINGS = {"agency": 63, "api": 63, "version": 64, "operation_id": 200, "application_id": 36}
_STRINGS |= {"credential_id": 36, "request_id": 64}
# The columns a usage record sets (the table's others are its own: the primary key).
USAGE_COLUMNS = (
    "request_id", "at", "agency", "api", "version", "operation_id", "application_id", "credential_id",
    "status", "latency_ms", "upstream_latency_ms", "bytes_in", "bytes_out", "client_ip",
)  # fmt: skip
_OPTIONAL = frozenset({"operation_id", "application_id", "credential_id", "upstream_latency_ms", "client_ip"})


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    inserted: int  # the others were already stored: a retried batch
    skipped: int  # Kong entries that matched no API (Kong's own 404s)


@lru_cache(maxsize=8192)  # callers repeat: per request in the gateway, per entry in a Kong batch
def truncate_ip(value: str | None) -> str | None:
    """ "203.0.113.77" -> "203.0.113.0/24", IPv6 -> its /48; an unparsable address is dropped."""
    if not value:
        return None
    try:
        address = ipaddress.ip_interface(value.strip()).ip
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def _instant(value: Any, where: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (ValueError, OverflowError, OSError):  # beyond the years a datetime holds
            raise InvalidInput(f"{where}/at: {value!r} is not a Unix time a date can hold") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidInput(f"{where}/at: expected an ISO 8601 date-time or Unix seconds, not {value!r}")


def _number(record: dict[str, Any], key: str, where: str, *, integer: bool) -> Any:
    value = record.get(key)
    kinds = (int,) if integer else (int, float)
    if value is None and key in _OPTIONAL:
        return None
    if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
        kind = "a non-negative integer" if integer else "a non-negative number"
        raise InvalidInput(f"{where}/{key}: expected {kind}, not {value!r}")
    return value


def validate(record: Any, where: str) -> dict[str, Any]:
    """One record of the Agora batch format -> the row to insert; `where` is its JSON Pointer."""
    if not isinstance(record, dict):
        raise InvalidInput(f"{where}: a usage record is an object")
    row: dict[str, Any] = {}
    for key, limit in _STRINGS.items():
        value = record.get(key)
        if value is None and key in _OPTIONAL:
            row[key] = None
        elif not isinstance(value, str) or not value or len(value) > limit:
            raise InvalidInput(f"{where}/{key}: expected a string of 1 to {limit} characters")
        else:
            row[key] = value
    row["at"] = _instant(record.get("at"), where)
    status = _number(record, "status", where, integer=True)
    if not 100 <= status <= 599:
        raise InvalidInput(f"{where}/status: {status} is not an HTTP status")
    row["status"] = status
    row["latency_ms"] = float(_number(record, "latency_ms", where, integer=False))
    upstream = _number(record, "upstream_latency_ms", where, integer=False)
    row["upstream_latency_ms"] = None if upstream is None else float(upstream)
    row["bytes_in"] = _number(record, "bytes_in", where, integer=True)
    row["bytes_out"] = _number(record, "bytes_out", where, integer=True)
    client_ip = record.get("client_ip")
    row["client_ip"] = truncate_ip(client_ip) if isinstance(client_ip, str) else None
    return row


def _kong_request_id(entry: dict[str, Any]) -> str:
    request, response = entry.get("request") or {}, entry.get("response") or {}
    found = request.get("id") or (response.get("headers") or {}).get("x-kong-request-id")
    if isinstance(found, str) and 0 < len(found) <= 64:
        return found
    # Kong before 3.5 logs no request id: the entry's own digest keeps a retried post idempotent.
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)
    return "kong-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _kong_service(entry: dict[str, Any]) -> tuple[str, str, str, int] | None:
    """(name, agency, api, major) from the service Agora's Kong export generated, or None."""
    service = entry.get("service")
    if not isinstance(service, dict) or not isinstance(service.get("name"), str):
        return None
    name: str = service["name"]
    tags = {t.split(":", 1)[0]: t.split(":", 1)[1] for t in service.get("tags") or () if ":" in str(t)}
    parts = name.split(".")
    if len(parts) != 3 or not parts[2].startswith("v") or not parts[2][1:].isdigit():
        return None
    return name, tags.get("agency", parts[0]), tags.get("api", parts[1]), int(parts[2][1:])


def _latest_versions(session: Session, keys: set[tuple[str, str, int]]) -> dict[tuple[str, str, int], str]:
    """The version serving each (agency, api, major): the newest non-draft one, as the snapshot picks."""
    if not keys:
        return {}
    rows = session.execute(
        select(Agency.slug, Api.slug, ApiVersion.major, ApiVersion.version)
        .join(Api, Api.agency_id == Agency.id)
        .join(ApiVersion, ApiVersion.api_id == Api.id)
        .where(Agency.slug.in_({k[0] for k in keys}), Api.slug.in_({k[1] for k in keys}))
        .where(ApiVersion.status != VersionStatus.DRAFT)
    )
    best: dict[tuple[str, str, int], str] = {}
    for agency, api, major, version in rows:
        key = (agency, api, major)
        if key in keys and (key not in best or semver.compare(version, best[key]) > 0):
            best[key] = version
    return best


def from_kong(session: Session, entries: Sequence[Any]) -> list[dict[str, Any] | None]:
    """Kong log entries -> Agora records (None for an entry that matched no Agora service)."""
    found = [_kong_service(e) if isinstance(e, dict) else None for e in entries]
    versions = _latest_versions(session, {(s[1], s[2], s[3]) for s in found if s is not None})
    out: list[dict[str, Any] | None] = []
    for entry, service in zip(entries, found, strict=True):
        if service is None:
            out.append(None)
            continue
        name, agency, api, major = service
        request, response = entry.get("request") or {}, entry.get("response") or {}
        latencies, consumer = entry.get("latencies") or {}, entry.get("consumer") or {}
        route = str((entry.get("route") or {}).get("name") or "")
        proxy = latencies.get("proxy")
        out.append(
            {
                "request_id": _kong_request_id(entry),
                "at": (entry.get("started_at") or 0) / 1000,  # Kong logs milliseconds
                "agency": agency,
                "api": api,
                "version": versions.get((agency, api, major), f"{major}.x"),
                "operation_id": route.removeprefix(name + ".") or None,
                "application_id": consumer.get("custom_id") or consumer.get("id"),
                "credential_id": (entry.get("authenticated_entity") or {}).get("id"),
                "status": response.get("status"),
                "latency_ms": latencies.get("request") or 0,
                "upstream_latency_ms": proxy if isinstance(proxy, int | float) and proxy >= 0 else None,
                "bytes_in": request.get("size") or 0,
                "bytes_out": response.get("size") or 0,
                "client_ip": entry.get("client_ip"),
            }
        )
    return out


def usage_insert(dialect: str) -> Insert:
    """The insert of usage records on `dialect`, idempotent on `request_id`. The gateway's metering
    compiles it once and hands it to the driver (plugins/usage_metering/backends/database.py)."""
    return idempotent_insert(cast(Table, UsageRecord.__table__), dialect)


def record_usage(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Inserts validated rows; one already stored (same `request_id`) is left alone. Returns how many
    were inserted."""
    return insert_new(session, cast(Table, UsageRecord.__table__), list(rows))


def ingest(session: Session, body: Any) -> IngestResult:
    """A posted body in either shape; raises `InvalidInput` (naming the JSON Pointer) before writing."""
    if isinstance(body, list):
        converted = from_kong(session, body[: MAX_BATCH + 1])
        records, base = [r for r in converted if r is not None], ""
        skipped = len(converted) - len(records)
        pointers = [f"/{i}" for i, r in enumerate(converted) if r is not None]
    elif isinstance(body, dict) and isinstance(body.get("records"), list):
        records, skipped = body["records"], 0
        base, pointers = "/records", [f"/records/{i}" for i in range(len(records))]
    else:
        raise InvalidInput('expected {"records": [...]} (Agora) or a JSON array of Kong log entries')
    if len(records) + skipped > MAX_BATCH:
        raise InvalidInput(f"{base or '/'}: at most {MAX_BATCH} records per request")
    rows = [validate(record, where) for record, where in zip(records, pointers, strict=True)]
    inserted = record_usage(session, rows)
    return IngestResult(received=len(records) + skipped, inserted=inserted, skipped=skipped)
