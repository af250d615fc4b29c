"""Agora plugin schemas in Kong's schema language, and Kong's plugin config back to Agora's.

Kong validates every plugin-server schema against its metaschema (kong/db/schema/metaschema.lua) when
it starts, then every plugin config against that schema. So the `--dump` schema must say what Kong
can check: an `array` declares its `elements`, a `map` its `keys` and `values`, a `record` its
`fields` (a record of Agora's schema declares them, as Kong's do); `one_of` only on strings and
numbers; a `default` of the field's own type. Descriptions are left out: older Kong 3.x metaschemas
refuse the attribute, and the portal reads them from Agora's own schema anyway.

Two fields carry whole JSON Schemas (request-validator's `parameters` and `body`), which no Kong
field type can describe: Kong sees them as strings holding JSON, the export writes them that way
(`registry.compile.kong_plugins.JSON_TEXT_FIELDS`) and `agora_config` decodes them again.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.pipeline.plugin_host import PluginSpec, apply_schema
from registry.compile.kong_plugins import JSON_TEXT_FIELDS

__all__ = ["agora_config", "kong_fields"]

_STRING = {"type": "string"}
# Element, value or field lists Agora's schemas leave implicit (their default: strings).
_ELEMENTS: dict[tuple[str, str], dict[str, Any]] = {
    ("jwt", "issuers"): {
        "type": "record",
        "fields": [
            {"issuer": {"type": "string", "required": True}},
            {"jwks_uri": {"type": "string"}},
            {"audiences": {"type": "array", "elements": _STRING, "required": True}},
        ],
    },
}
_MAP_VALUES: dict[tuple[str, str], dict[str, Any]] = {
    ("rate-limiting", "limits"): {"type": "integer"},
    ("personal-data-log", "legal_bases"): {"type": "integer"},
}
_ONE_OF_TYPES = frozenset({"string", "number", "integer"})


def _kong_field(plugin: str, name: str, rules: dict[str, Any]) -> dict[str, Any]:
    kind = str(rules.get("type", "string"))
    default = rules.get("default")
    field: dict[str, Any]
    if name in JSON_TEXT_FIELDS.get(plugin, ()):
        field = {"type": "string"}
        if default is not None:
            default = json.dumps(default, sort_keys=True, separators=(",", ":"))
    elif kind in ("array", "set"):
        field = {"type": kind, "elements": _ELEMENTS.get((plugin, name), _STRING)}
    elif kind == "map":
        field = {"type": "map", "keys": _STRING, "values": _MAP_VALUES.get((plugin, name), _STRING)}
    elif kind == "record":
        if not rules.get("fields"):
            raise ValueError(f"{plugin}.{name}: a record needs its fields declared for Kong")
        fields = [
            {sub: _kong_field(plugin, f"{name}.{sub}", r)} for e in rules["fields"] for sub, r in e.items()
        ]
        field = {"type": "record", "fields": fields}
    else:
        field = {"type": kind}
        if "one_of" in rules and kind in _ONE_OF_TYPES:
            field["one_of"] = list(rules["one_of"])
    if rules.get("required"):
        field["required"] = True
    if default is not None:
        field["default"] = default
    return field


def kong_fields(spec: PluginSpec) -> list[dict[str, Any]]:
    """The `config` record's fields Kong gets from `--dump`."""
    return [
        {name: _kong_field(spec.name, name, rules)} for entry in spec.schema for name, rules in entry.items()
    ]


def _types(spec: PluginSpec) -> dict[str, str]:
    return {name: str(rules.get("type", "")) for entry in spec.schema for name, rules in entry.items()}


def agora_config(spec: PluginSpec, config: dict[str, Any]) -> dict[str, Any]:
    """Kong's config (from `plugin.StartInstance`) as the config Agora's plugin class expects.

    Kong adds `__key__`, `__seq__` and `__plugin_id` and fills unset fields with null; Agora's
    defaults apply to those instead. cjson may send an empty array as `{}`.
    """
    types = _types(spec)
    text_fields = JSON_TEXT_FIELDS.get(spec.name, ())
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith("__") or value is None:
            continue
        if key in text_fields and isinstance(value, str):
            value = json.loads(value)
        elif types.get(key) in ("array", "set") and value == {}:
            value = []
        elif types.get(key) == "map" and value == []:
            value = {}
        out[key] = value
    return apply_schema(spec.schema, out, f"kong plugin agora-{spec.name}")
