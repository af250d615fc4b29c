"""Reference pages of the gateway plugins, generated from each plugin's Kong-style `Schema`
(`({"field": {"type", "default", "required", "description", "fields"?}}, ...)`) and its docstring."""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["describe_plugins", "schema_fields"]

log = logging.getLogger("agora.portal")


def schema_fields(schema: Any, parent: str = "") -> list[dict[str, Any]]:
    """One row per field; a record's own `fields` follow it as `parent.child`."""
    rows: list[dict[str, Any]] = []
    for entry in schema or ():
        if not isinstance(entry, dict):
            continue
        for name, rules in entry.items():
            rules = rules if isinstance(rules, dict) else {}
            full = f"{parent}{name}"
            default = rules.get("default")
            rows.append(
                {
                    "name": full,
                    "type": str(rules.get("type", "any")),
                    "default": "" if default is None else json.dumps(default, ensure_ascii=False),
                    "required": bool(rules.get("required")),
                    "description": str(rules.get("description", "")),
                }
            )
            if isinstance(rules.get("fields"), list | tuple):
                rows.extend(schema_fields(rules["fields"], f"{full}."))
    return rows


def describe_plugins(package: str = "plugins") -> list[dict[str, Any]]:
    """Every plugin the gateway would load from `package`, sorted by name; [] if none loads."""
    from gateway.pipeline.plugin_host import (
        PluginRegistry,  # the gateway's own loader: one notion of a plugin
    )

    try:
        registry = PluginRegistry.discover(package)
    except Exception:  # a plugin under construction must not stop the portal build
        log.exception("plugins in %r could not be loaded; the portal lists none", package)
        return []
    plugins = []
    for name, spec in sorted(registry.specs.items()):
        module = __import__(spec.plugin.__module__, fromlist=["_"])
        plugins.append(
            {
                "name": name,
                "version": spec.version,
                "priority": spec.priority,
                "doc": (module.__doc__ or "").strip(),
                "fields": schema_fields(spec.schema),
            }
        )
    return plugins
