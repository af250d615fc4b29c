"""What an agency may put in its spec's `x-agora-plugins`: limits set by the platform, not the plugin.

A plugin's config is the agency's to write, but a few of its fields reach beyond the agency's own API,
and each plugin's schema (`plugins/<name>/schema.py`) marks them:

    "url": True                     a URL the gateway may fetch or link to: it goes through the same
                                    address check as upstreams (registry/addresses.py)
    "url_keys": ("issuer", ...)     the same, for those keys of each record of an array field
    "operator_only": True           the operator's setting (which Redis counts, where usage is posted):
                                    an agency may not set it at all
    "agency_values": (True,)        the only values an agency may give it (key-auth's `hide_credentials`:
                                    keys never reach an upstream, where they would work on other APIs)

A plugin the registry compiles from another declaration names it in its schema module
(`COMPILED_FROM = "x-agora-personal-data"`): an agency may not name that plugin at all, it declares
what the plugin needs where the schema module says (personal-data-log is put on exactly the operations
that declare personal data, with their subject and categories; an entry of its own could log nothing,
or log the wrong parameter).

Breaches are refused at publication as `SpecRefused` findings, located by JSON Pointer; unlike spec
findings, `accept_findings` does not let them through.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from agora.errors import Finding, InvalidInput, SpecRefused
from registry.specs.pointer import escape
from registry.upstreams import check_url

__all__ = ["check_plugin_configs", "compiled_from", "plugin_fields", "with_platform_values"]

_KEY = "x-agora-plugins"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _schema_module(name: str) -> Any:
    try:
        return importlib.import_module(f"plugins.{name.replace('-', '_')}.schema")
    except ImportError:
        return None


@cache
def plugin_fields(name: str) -> dict[str, dict[str, Any]]:
    """The plugin's schema as field -> rules; empty for a plugin Agora does not ship."""
    schema: tuple[dict[str, Any], ...] = getattr(_schema_module(name), "Schema", ())
    return {field: rules for entry in schema for field, rules in entry.items()}


@cache
def compiled_from(name: str) -> str | None:
    """The spec extension the registry compiles this plugin from, or None for a plugin an agency may
    name in `x-agora-plugins`."""
    found = getattr(_schema_module(name), "COMPILED_FROM", None)
    return found if isinstance(found, str) else None


def with_platform_values(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """`config` with every `agency_values` field the agency left out set to the platform's value (an
    agency's key-auth entry replaces the default one, and must not fall back to the plugin's default
    `hide_credentials: false`)."""
    missing = {
        field: rules["agency_values"][0]
        for field, rules in plugin_fields(name).items()
        if "agency_values" in rules and field not in config
    }
    return {**config, **missing} if missing else config


def _places(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(JSON Pointer, value) of every `x-agora-plugins` in the document: top level, path items,
    operations."""
    if _KEY in document:
        yield f"/{_KEY}", document[_KEY]
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        base = f"/paths/{escape(str(path))}"
        if _KEY in item:
            yield f"{base}/{_KEY}", item[_KEY]
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and _KEY in operation:
                yield f"{base}/{method}/{_KEY}", operation[_KEY]


def _url(value: Any, where: str, allowed_hosts: tuple[str, ...]) -> Finding | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return Finding(where, "must be a URL (a string)", "policy")
    try:
        check_url(value, allowed_hosts=allowed_hosts, what="URL")
    except InvalidInput as exc:
        return Finding(where, exc.detail, "policy")
    return None


def _field(
    name: str, field: str, rules: dict[str, Any], value: Any, where: str, allowed_hosts: tuple[str, ...]
) -> Iterator[Finding]:
    if rules.get("operator_only"):
        yield Finding(where, f"{name}'s {field} is the platform operator's setting, not an API's", "policy")
        return
    if "agency_values" in rules and value not in rules["agency_values"]:
        wanted = " or ".join(repr(v) for v in rules["agency_values"])
        yield Finding(where, f"{name}'s {field} can only be {wanted} on this platform", "policy")
    if rules.get("url"):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            at = f"{where}/{index}" if isinstance(value, list) else where
            finding = _url(item, at, allowed_hosts)
            if finding is not None:
                yield finding
    for key in rules.get("url_keys", ()):
        for index, record in enumerate(value if isinstance(value, list) else []):
            if isinstance(record, dict):
                finding = _url(record.get(key), f"{where}/{index}/{key}", allowed_hosts)
                if finding is not None:
                    yield finding


def _entries(value: Any, where: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(plugin name, pointer to the entry's name, pointer to its config, config) for both spellings of
    `x-agora-plugins`."""
    if isinstance(value, dict):
        for name, config in value.items():
            at = f"{where}/{escape(str(name))}"
            yield str(name), at, at, config if isinstance(config, dict) else {}
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict) and "name" in item:
                config = item.get("config")
                yield (
                    str(item["name"]), f"{where}/{index}/name", f"{where}/{index}/config",
                    config if isinstance(config, dict) else {},
                )  # fmt: skip


def check_plugin_configs(document: dict[str, Any], *, allowed_hosts: tuple[str, ...] = ()) -> None:
    """Raises SpecRefused listing every field of every `x-agora-plugins` the platform does not allow."""
    findings: list[Finding] = []
    for where, value in _places(document):
        for name, named_at, at, config in _entries(value, where):
            source = compiled_from(name)
            if source is not None:
                message = f"{name} is set by the platform from {source}: declare it there, not as a plugin"
                findings.append(Finding(named_at, message, "policy"))
                continue
            fields = plugin_fields(name)
            for field, field_value in config.items():
                rules = fields.get(str(field))
                if rules is not None:
                    pointer = f"{at}/{escape(str(field))}"
                    findings.extend(_field(name, str(field), rules, field_value, pointer, allowed_hosts))
    if findings:
        raise SpecRefused(sorted(set(findings), key=lambda f: (f.location, f.message)))
