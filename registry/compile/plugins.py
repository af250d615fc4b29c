"""Which plugins a service gets: defaults from its access level, then the spec's own `x-agora-plugins`.

    open        rate-limiting by client IP (OPEN_LIMITS), usage-metering
    key         key-auth, rate-limiting by consumer (the application's plan), usage-metering
    restricted  key-auth, access-control (an approved grant), rate-limiting by consumer (the grant's plan),
                usage-metering

`rate-limiting` leaves `policy` unset on purpose: how counters are shared (in-process or Redis) is a property
of the deployment, not of the API, so each gateway picks Redis when it has AGORA_REDIS_URL.
"""

from __future__ import annotations

from typing import Any

from registry.models import AccessLevel
from registry.plugin_policy import compiled_from, with_platform_values

__all__ = ["OPEN_LIMITS", "merge_plugins", "plugin_list", "service_plugins"]

# Anonymous callers of open APIs, per client IP: generous for people, a brake for scrapers.
OPEN_LIMITS: dict[str, int | None] = {"second": 10, "minute": 300, "hour": None, "day": 20_000, "month": None}


def plugin_list(value: Any) -> list[dict[str, Any]]:
    """`x-agora-plugins` (as decK reads `x-kong-plugin-*`): {name, config} entries or a name -> config map.
    A plugin the registry compiles from another declaration (personal-data-log) is left out: publication
    refuses it there (registry/plugin_policy.py), and a spec published before that rule must not add it."""
    if isinstance(value, dict):
        value = [{"name": name, "config": config or {}} for name, config in value.items()]
    if not isinstance(value, list):
        return []
    plugins = [
        {
            "name": str(item["name"]),
            "config": with_platform_values(str(item["name"]), dict(item.get("config") or {})),
        }
        for item in value
        if isinstance(item, dict) and "name" in item and compiled_from(str(item["name"])) is None
    ]
    return sorted(plugins, key=lambda p: p["name"])


def _defaults(level: AccessLevel) -> list[dict[str, Any]]:
    if level is AccessLevel.OPEN:
        return [
            {"name": "rate-limiting", "config": {"limit_by": "ip", "limits": dict(OPEN_LIMITS)}},
            {"name": "usage-metering", "config": {}},
        ]
    plugins: list[dict[str, Any]] = [
        {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}},
        {"name": "rate-limiting", "config": {"limit_by": "consumer"}},
        {"name": "usage-metering", "config": {}},
    ]
    if level is AccessLevel.RESTRICTED:
        plugins.append({"name": "access-control", "config": {}})
    return plugins


def merge_plugins(base: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spec's entry for a plugin replaces the default one of the same name."""
    by_name = {p["name"]: p for p in base}
    by_name.update({p["name"]: p for p in extra})
    return [by_name[name] for name in sorted(by_name)]


def service_plugins(level: AccessLevel, document_extensions: dict[str, Any]) -> list[dict[str, Any]]:
    return merge_plugins(_defaults(level), plugin_list(document_extensions.get("x-agora-plugins")))
