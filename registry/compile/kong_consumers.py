"""Kong consumers for snapshot applications, their grant groups, and the rate limits of their plans.

Nothing secret leaves the snapshot: no credential, prefix or digest, and no developer e-mail. The
`agora-key-auth` plugin finds a key's application in Agora's snapshot at run time and authenticates
the Kong consumer whose `username` it has.

Plan limits become rate-limiting plugins scoped to a consumer (Kong counts those per consumer,
across the services where the consumer is identified); a grant's plan becomes one scoped to the
consumer and each service of the restricted API (counted per service, and taking precedence over
the consumer's own plan there, as Kong prefers consumer+service over consumer-only plugins).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from agora.errors import InvalidInput
from registry.compile.kong_plugins import check_limits, grant_group

__all__ = ["consumers", "plan_rate_limits", "usernames"]


def _plan_limits(plans: dict[str, Any], slug: str, where: str) -> dict[str, int]:
    if slug not in plans:
        raise InvalidInput(f"kong export: {where} is on plan {slug!r}, which the snapshot does not define")
    return check_limits(dict(plans[slug].get("limits") or {}), f"plan {slug!r}")


def usernames(items: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Application id -> Kong username. Application names need not be unique, Kong usernames must:
    a name two applications share gets the application id appended."""
    items = list(items)
    counts = Counter(str(c["username"]) for c in items)
    return {
        str(c["id"]): str(c["username"]) if counts[str(c["username"])] == 1 else f"{c['username']}-{c['id']}"
        for c in items
    }


def _group(api: str) -> str:
    agency, _, slug = api.partition("/")
    if not agency or not slug:
        raise InvalidInput(f"kong export: a grant names {api!r}, not '<agency>/<api>'")
    return grant_group(agency, slug)


def _uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def consumers(items: Iterable[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for item in sorted(items, key=lambda c: names[str(c["id"])]):
        app_id = str(item["id"])
        groups = sorted({_group(str(g["api"])) for g in item.get("grants") or ()})
        consumer: dict[str, Any] = {}
        if _uuid(app_id):
            # Kong keys rate-limit counters by consumer id: keep it the application's, so a rename
            # does not reset them.
            consumer["id"] = app_id.lower()
        consumer.update(username=names[app_id], custom_id=app_id, tags=["agora", f"plan:{item['plan']}"])
        if groups:
            consumer["acls"] = [{"group": g, "tags": ["agora"]} for g in groups]
        out.append(consumer)
    return out


def plan_rate_limits(
    items: Iterable[dict[str, Any]],
    names: dict[str, str],
    plans: dict[str, Any],
    restricted_services: dict[str, list[str]],
    backend: dict[str, Any],
) -> list[dict[str, Any]]:
    """Top-level `rate-limiting` entries: one per consumer whose plan has limits, and one per
    (consumer, service of a restricted API it holds a grant for) whose grant plan has limits.

    `restricted_services` maps "agency/api" to the names of the Kong services serving it.
    """
    out = []
    for item in items:
        username = names[str(item["id"])]
        where = f"consumer {username!r}"
        limits = _plan_limits(plans, str(item["plan"]), where)
        if limits:
            out.append(_entry(username, None, limits, backend, str(item["plan"])))
        for grant in item.get("grants") or ():
            plan = str(grant.get("plan") or item["plan"])
            grant_limits = _plan_limits(plans, plan, f"{where} (grant for {grant['api']})")
            for service in restricted_services.get(str(grant["api"]), ()):
                if grant_limits:
                    out.append(_entry(username, service, grant_limits, backend, plan))
    return sorted(out, key=lambda p: (p["consumer"], p.get("service", "")))


def _entry(
    username: str, service: str | None, limits: dict[str, int], backend: dict[str, Any], plan: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": "rate-limiting", "consumer": username}
    if service is not None:
        entry["service"] = service
    entry["config"] = {**limits, "limit_by": "consumer", **backend, "fault_tolerant": True}
    entry["tags"] = ["agora", f"plan:{plan}"]
    return entry
