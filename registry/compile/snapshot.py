"""Compiles the registry into the gateway snapshot (docs/snapshot.md): deterministic, content-addressed.

Each route carries its operation's effective `security` requirements and, derived from them, the
`scopes` a bearer token needs (the jwt plugin reads them). A `request-validator` entry, wherever the
spec enables it, is compiled onto each route with that operation's parameter and body schemas in its
config, so the plugin (in Agora's gateway or in Kong) needs nothing but its config. So is
`personal-data-log`, on exactly the routes whose operation declares personal data (`x-agora-personal-data`):
where the person's identifier is, the categories, and the API's legal bases with their retention.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from registry import specs
from registry.compile.plugins import merge_plugins, plugin_list, service_plugins
from registry.models import (
    AccessGrant,
    Api,
    ApiVersion,
    Application,
    GrantState,
    Plan,
    utcnow,
)
from registry.specs.personal_data import PersonalData, personal_data
from registry.versions import newest_by_major, served_versions

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUTS",
    "FORMAT",
    "canonical",
    "compile_snapshot",
    "snapshot_id",
]

FORMAT = 1
DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 30.0}
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
BEARER_SCHEMES = ("oauth2", "openIdConnect")  # security scheme types whose requirements name scopes
VALIDATOR = "request-validator"
PERSONAL_DATA_LOG = "personal-data-log"


def canonical(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "id"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def snapshot_id(document: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(document)).hexdigest()


def _prefix(api: Api, major: int) -> str:
    return f"/{api.agency.slug}/{api.slug}/v{major}"


def _scopes(security: list[dict[str, list[str]]], schemes: dict[str, Any]) -> list[list[str]]:
    """One entry per requirement that names an OAuth 2 / OpenID Connect scheme: the scopes a token needs
    to meet that requirement (requirements are alternatives; `[]` means "a valid token, any scope")."""
    out = []
    for requirement in security:
        bearer = [name for name in requirement if (schemes.get(name) or {}).get("type") in BEARER_SCHEMES]
        if bearer:
            out.append(sorted({scope for name in bearer for scope in requirement[name]}))
    return out


def _validator(op: dict[str, Any], kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The request-validator entry of one route: the spec's config plus the operation's schemas."""
    body = op.get("request_body")
    return {
        "name": VALIDATOR,
        "config": {
            **config,
            "openapi": "3.1" if kind == "openapi-3.1" else "3.0",  # Swagger 2 schemas read as 3.0 ones
            "parameters": [{k: p[k] for k in ("name", "in", "required", "schema")} for p in op["parameters"]],
            "body": None
            if body is None
            else {
                "required": body["required"],
                "content": {media: entry["schema"] for media, entry in sorted(body["content"].items())},
            },
        },
    }


def _personal_data_log(data: PersonalData, operation_id: str) -> dict[str, Any] | None:
    """The personal-data-log entry of one route, or None when its operation declares no personal data."""
    declared = data.operations.get(operation_id)
    if declared is None:
        return None
    return {
        "name": PERSONAL_DATA_LOG,
        "config": {
            "subject": {"in": declared.subject.source, "name": declared.subject.name},
            "categories": list(declared.categories),
            "legal_bases": {basis.id: basis.retention_days for basis in data.legal_bases},
        },
    }


def _service(api: Api, row: ApiVersion, successor: str | None) -> dict[str, Any]:
    normalized = row.normalized
    doc_ext = normalized.get("extensions") or {}
    gateway_ext = doc_ext.get("x-agora-gateway") or {}
    schemes = normalized.get("security_schemes") or {}
    plugins = service_plugins(api.access_level, doc_ext)
    # A document-level request-validator moves onto every route, each with its own operation's schemas.
    validator = next((p for p in plugins if p["name"] == VALIDATOR), None)
    plugins = [p for p in plugins if p["name"] != VALIDATOR]
    data = personal_data(normalized)
    routes = []
    for op in normalized.get("operations", []):
        ext = op.get("extensions") or {}
        own = plugin_list(ext.get("x-agora-plugins"))
        wanted = next((p for p in own if p["name"] == VALIDATOR), validator)
        if wanted is not None:
            own = merge_plugins(own, [_validator(op, normalized.get("kind", ""), wanted["config"])])
        logged = _personal_data_log(data, op["operation_id"]) if data is not None else None
        if logged is not None:
            own = merge_plugins(own, [logged])
        security = op.get("security") or []
        routes.append(
            {
                "operation_id": op["operation_id"],
                "method": op["method"],
                "path": op["path"],
                "plugins": own,
                "security": security,
                "scopes": _scopes(security, schemes),
                "sandbox": specs.sandbox_response(op),
            }
        )
    routes.sort(key=lambda r: (r["path"], r["method"]))
    prefix = _prefix(api, row.major)
    return {
        "name": f"{api.agency.slug}.{api.slug}.v{row.major}",
        "agency": api.agency.slug,
        "api": api.slug,
        "title": api.title,
        "version": row.version,
        "major": row.major,
        "prefix": prefix,
        "upstream": row.upstream_url,
        "status": row.status.value,
        "access": api.access_level.value,
        "deprecated_at": row.deprecated_at.isoformat() if row.deprecated_at else None,
        "sunset": row.sunset_date.isoformat() if row.sunset_date else None,
        "successor": successor,
        "changelog": f"/{api.agency.slug}/{api.slug}/changelog/",
        "timeouts": {
            "connect": float(gateway_ext.get("connect_timeout", DEFAULT_TIMEOUTS["connect"])),
            "read": float(gateway_ext.get("read_timeout", DEFAULT_TIMEOUTS["read"])),
        },
        "max_body_bytes": int(gateway_ext.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)),
        # Only when declared, so snapshots of specs without it keep their content and id.
        **({"health_path": health} if isinstance(health := gateway_ext.get("health_path"), str) else {}),
        "plugins": plugins,
        "routes": routes,
    }


def _services(session: Session) -> list[dict[str, Any]]:
    # Versions without their documents: only the newest of each major is compiled (its `normalized`
    # loads when read), and older ones of a large spec would be megabytes of JSON each.
    versions = selectinload(Api.versions).defer(ApiVersion.spec_text).defer(ApiVersion.normalized)
    apis = session.scalars(select(Api).options(versions.defer(ApiVersion.changes))).unique()
    services = []
    for api in apis:
        newest = newest_by_major(api.versions)  # retired ones too: they answer 410 Gone
        live = sorted(row.major for row in served_versions(api.versions))
        for major, row in newest.items():
            later = [m for m in live if m > major]
            successor = _prefix(api, later[-1]) if later else None
            services.append(_service(api, row, successor))
    return sorted(services, key=lambda s: s["prefix"])


def _consumers(session: Session) -> list[dict[str, Any]]:
    now = utcnow()
    grants: dict[str, list[dict[str, str]]] = defaultdict(list)
    for grant in session.scalars(select(AccessGrant).where(AccessGrant.state == GrantState.APPROVED)):
        grants[grant.application_id].append(
            {
                "api": f"{grant.api.agency.slug}/{grant.api.slug}",
                "plan": grant.plan.slug,
                # What the gateway copies into each access to a person's data (issue 16). Only when
                # set, so grants on APIs without personal data keep their content and the snapshot its id.
                **({"purpose": grant.purpose} if grant.purpose else {}),
                **({"legal_basis": grant.legal_basis} if grant.legal_basis else {}),
            }
        )
    plans = {plan.id: plan.slug for plan in session.scalars(select(Plan))}
    consumers: list[dict[str, Any]] = []
    for app in session.scalars(select(Application).options(selectinload(Application.credentials))).unique():
        credentials: list[dict[str, Any]] = [
            {
                "id": c.id,
                "prefix": c.prefix,
                "digest": c.digest,
                "expires_at": c.expires_at.isoformat() if c.expires_at else None,
                "sandbox": c.sandbox,
            }
            for c in app.credentials
            if c.revoked_at is None and (c.expires_at is None or c.expires_at > now)
        ]
        consumers.append(
            {
                "id": app.id,
                "username": app.name,
                "developer": app.developer.email,
                "plan": plans[app.plan_id],
                # The body the application acts for, shown to people whose data it reads; only when set.
                **({"organisation": app.organisation} if app.organisation else {}),
                "credentials": sorted(credentials, key=lambda c: c["id"]),
                "grants": sorted(grants.get(app.id, []), key=lambda g: g["api"]),
            }
        )
    return sorted(consumers, key=lambda c: c["id"])


def compile_snapshot(session: Session) -> dict[str, Any]:
    plans = {
        plan.slug: {"name": plan.name, "limits": plan.limits()} for plan in session.scalars(select(Plan))
    }
    document: dict[str, Any] = {
        "format": FORMAT,
        "services": _services(session),
        "consumers": _consumers(session),
        "plans": dict(sorted(plans.items())),
    }
    document["id"] = snapshot_id(document)
    return document
