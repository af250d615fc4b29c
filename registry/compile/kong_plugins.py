"""Agora plugin entries -> Kong plugin entries.

An entry maps to Kong's bundled open-source plugin only where that plugin has the same semantics
and every option of the entry can be expressed in it; anything else runs in Agora's Python plugin
server under the name `agora-<name>` with its config passed through (docs/kong.md has the table):

    Agora entry              Kong plugin
    cors                     cors, unless Kong's would allow more (credentials with any origin,
                             a host-only regex, preflight_continue): then agora-cors
    ip-restriction           ip-restriction
    request-size-limiting    request-size-limiting
    rate-limiting            rate-limiting when it states limits (per IP on open APIs), else nothing:
                             plan limits are per-consumer entries (kong_consumers.py)
    access-control           acl, allowing the group "grant:<agency>/<api>"
    key-auth, jwt, ...       agora-key-auth, agora-jwt, ... (Kong's key-auth needs plaintext keys;
                             Agora keeps only HMAC digests)
    usage-metering           nothing: the global http-log meters every request (kong.py)

A Python plugin's fields that hold whole JSON Schemas (`JSON_TEXT_FIELDS`) are written as JSON text:
Kong's schema language has no type for them (plugins/kong/schema.py decodes them again).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agora.errors import PROBLEM_BASE, InvalidInput

__all__ = [
    "AUTH_PLUGINS",
    "JSON_TEXT_FIELDS",
    "PERIODS",
    "PYTHON_PREFIX",
    "Scope",
    "canonical",
    "check_limits",
    "grant_group",
    "kong_plugin",
    "problem",
    "python_name",
    "size_limit",
]

PYTHON_PREFIX = "agora-"
PERIODS = ("second", "minute", "hour", "day", "month")
# The snapshot names plugins the way decK does; these authenticate a consumer.
AUTH_PLUGINS = frozenset({"key-auth", "jwt", "basic-auth", "hmac-auth", "oauth2", "openid-connect"})
# Fields of Agora plugins Kong sees as JSON text (no Kong field type describes a JSON Schema).
JSON_TEXT_FIELDS: dict[str, tuple[str, ...]] = {"request-validator": ("parameters", "body")}
# Entries Kong gets no plugin for: metering is the one global http-log, whatever the mode.
_NOT_EXPORTED = frozenset({"usage-metering"})
_NAME = re.compile(r"[a-z][a-z0-9-]*")  # names end up in plugin-server commands: nothing else passes
_CORS_LITERAL = re.compile(r"[A-Za-z0-9.:/-]+")  # Kong's test: any other character makes an entry a regex
_UNITS = (("megabytes", 1 << 20), ("kilobytes", 1 << 10), ("bytes", 1))  # Kong's own factors


@dataclass(frozen=True, slots=True)
class Scope:
    """What a translation needs to know about the service the entry belongs to."""

    agency: str
    api: str
    open_access: bool
    rate_limit_backend: dict[str, Any]


class _Skip(enum.Enum):
    SKIP = "nothing to configure in Kong at this scope"


SKIP = _Skip.SKIP
# A translator returns the Kong config, None when Kong's plugin cannot say the same, or SKIP.
Translator = Callable[[dict[str, Any], Scope], dict[str, Any] | _Skip | None]


def canonical(value: Any) -> Any:
    """Dicts with sorted keys, recursively, so a passed-through config dumps the same way every time."""
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def python_name(name: str) -> str:
    return name if name.startswith(PYTHON_PREFIX) else PYTHON_PREFIX + name


def grant_group(agency: str, api: str) -> str:
    return f"grant:{agency}/{api}"


def size_limit(max_bytes: int) -> dict[str, Any]:
    """`request-size-limiting` config for a byte count, in the largest unit that divides it."""
    if max_bytes <= 0:
        raise InvalidInput(f"kong export: a body limit must be positive, not {max_bytes}")
    unit, factor = next((u, f) for u, f in _UNITS if max_bytes % f == 0)
    return {"allowed_payload_size": max_bytes // factor, "size_unit": unit}


def _renamed(config: dict[str, Any], names: dict[str, str]) -> dict[str, Any] | None:
    """Kong option names for `config` (aliases allowed), or None if an option has no Kong equivalent."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key not in names:
            return None
        out[names[key]] = value
    return out


def _cors(config: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
    out = _renamed(
        config,
        {
            "origins": "origins", "allow_origins": "origins",
            "methods": "methods", "allow_methods": "methods",
            "headers": "headers", "allow_headers": "headers",
            "exposed_headers": "exposed_headers", "expose_headers": "exposed_headers",
            "credentials": "credentials", "allow_credentials": "credentials",
            "max_age": "max_age", "preflight_continue": "preflight_continue",
            "private_network": "private_network",
        },
    )  # fmt: skip
    if out is None or _cors_widens(out):
        return None
    for key in ("methods", "headers"):  # "*" there: Kong's default (all methods, echo the request's)
        if "*" in (out.get(key) or ()):
            del out[key]
    return out


def _cors_widens(config: dict[str, Any]) -> bool:
    """Whether Kong's cors plugin (kong/plugins/cors/handler.lua, 3.9) would answer more than Agora's.

    - `credentials: true` with origins unset or containing `*`: Kong echoes any Origin with
      `Access-Control-Allow-Credentials: true`; Agora answers `*`, never with credentials.
    - a regex entry without `:`: Kong matches it against the Origin's host only (any scheme, any port);
      Agora against the whole origin.
    - `preflight_continue: true`: Kong proxies every preflight upstream; Agora only where the operation
      declares OPTIONS (elsewhere it answers itself, as there is nothing to continue to).
    """
    origins = [str(o) for o in config.get("origins") or ()]
    if config.get("credentials") and (not origins or "*" in origins):
        return True
    if any(o != "*" and not _CORS_LITERAL.fullmatch(o) and ":" not in o for o in origins):
        return True
    return bool(config.get("preflight_continue"))


def _ip_restriction(config: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
    return _renamed(
        config,
        {
            "allow": "allow", "allowlist": "allow", "whitelist": "allow",
            "deny": "deny", "denylist": "deny", "blacklist": "deny",
            "status": "status", "message": "message",
        },
    )  # fmt: skip


def _request_size(config: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
    byte_keys = [k for k in ("max_bytes", "max_body_bytes") if k in config]
    rest = {k: v for k, v in config.items() if k not in byte_keys}
    out = _renamed(rest, {k: k for k in ("allowed_payload_size", "size_unit", "require_content_length")})
    if out is None or (byte_keys and "allowed_payload_size" in out):
        return None
    if byte_keys:
        out.update(size_limit(int(config[byte_keys[0]])))
    return out


def check_limits(limits: dict[str, Any], where: str) -> dict[str, int]:
    """Limits Kong's rate-limiting accepts: positive integers, never lower for a longer period."""
    out: dict[str, int] = {}
    for period in (*PERIODS, "year"):
        value = limits.get(period)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidInput(
                f"kong export: {where}: the {period} limit must be a positive integer, not {value!r}"
            )
        shorter = [p for p in out if out[p] > value]
        if shorter:
            raise InvalidInput(
                f"kong export: {where}: the {period} limit ({value}) is lower than the {shorter[0]} limit "
                f"({out[shorter[0]]}); Kong rejects that"
            )
        out[period] = value
    return out


def _rate_limiting(config: dict[str, Any], scope: Scope) -> dict[str, Any] | _Skip | None:
    known = {
        *PERIODS,
        "year",
        "limit_by",
        "fault_tolerant",
        "hide_client_headers",
        "error_code",
        "error_message",
    }
    if not set(config) <= known | {"limits"}:
        return None
    # Open APIs' limits come as a map with nulls; a period field wins over it (the plugin's own rule).
    mapped = {k: v for k, v in dict(config.get("limits") or {}).items() if v is not None}
    if not set(mapped) <= set(PERIODS):
        return None
    periods = {**mapped, **{k: v for k, v in config.items() if k in (*PERIODS, "year") and v is not None}}
    limits = check_limits(periods, f"rate-limiting of {scope.agency}/{scope.api}")
    if not limits:
        return SKIP  # "apply the consumer's plan": the per-consumer entries do that
    out: dict[str, Any] = {
        **limits,
        "limit_by": config.get("limit_by", "ip" if scope.open_access else "consumer"),
    }
    out.update({k: config[k] for k in ("hide_client_headers", "error_code", "error_message") if k in config})
    return {**out, **scope.rate_limit_backend, "fault_tolerant": config.get("fault_tolerant", True)}


def _access_control(config: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
    if config:
        return None  # options of Agora's own check have no acl equivalent
    # Upstreams need not learn which other APIs an application may call.
    return {"allow": [grant_group(scope.agency, scope.api)], "hide_groups_header": True}


BUNDLED: dict[str, tuple[str, Translator]] = {
    "cors": ("cors", _cors),
    "ip-restriction": ("ip-restriction", _ip_restriction),
    "request-size-limiting": ("request-size-limiting", _request_size),
    "rate-limiting": ("rate-limiting", _rate_limiting),
    "access-control": ("acl", _access_control),
}


def kong_plugin(
    entry: dict[str, Any], scope: Scope, *, python_everywhere: bool, tags: list[str]
) -> dict[str, Any] | None:
    """The Kong plugin for one snapshot entry, or None when Kong needs nothing at this scope."""
    name = str(entry.get("name", ""))
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"kong export: plugin name {name!r} is not a plugin name ([a-z][a-z0-9-]*)")
    config = dict(entry.get("config") or {})
    if name in _NOT_EXPORTED:
        return None
    if not python_everywhere and name in BUNDLED:
        kong_name, translate = BUNDLED[name]
        translated = translate(config, scope)
        if translated is SKIP:
            return None
        assert not isinstance(translated, _Skip)
        if translated is not None:
            return {"name": kong_name, "config": canonical(translated), "tags": tags}
    for key in JSON_TEXT_FIELDS.get(name, ()):
        if config.get(key) is not None:
            config[key] = json.dumps(config[key], sort_keys=True, separators=(",", ":"))
    return {"name": python_name(name), "config": canonical(config), "tags": tags}


def problem(status: int, slug: str, title: str, detail: str, **extensions: Any) -> dict[str, Any]:
    """The problem document (RFC 9457) Agora's gateway answers with, for `request-termination`."""
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extensions}
