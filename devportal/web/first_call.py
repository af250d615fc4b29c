"""A first call to paste, shown with a new key: the key already filled in, on an API the application
may call (an approved grant first, else an API any key opens), with the first GET operation of its spec
that returns data: not a health check (the API's `health_path`, a `/health` path, or an operation that
needs no credential), and one whose parameters all have values from the spec when there is such."""

from __future__ import annotations

from typing import Any

import semver
from sqlalchemy import select
from sqlalchemy.orm import Session

from devportal.build.samples import KEY_PLACEHOLDER, code_samples, parameter_value
from registry.models import AccessGrant, AccessLevel, Api, Application, GrantState, VersionStatus

__all__ = ["first_call"]


def _candidates(session: Session, application: Application) -> list[Api]:
    granted = session.scalars(
        select(Api)
        .join(AccessGrant, AccessGrant.api_id == Api.id)
        .where(AccessGrant.application_id == application.id, AccessGrant.state == GrantState.APPROVED)
        .order_by(Api.id)
    ).unique()
    keyed = session.scalars(select(Api).where(Api.access_level == AccessLevel.KEY).order_by(Api.id)).unique()
    return [*granted, *keyed]


def _is_check(op: dict[str, Any], health_path: str | None) -> bool:
    """A health or status check rather than a data call."""
    path = str(op["path"]).rstrip("/")
    return path == (health_path or "").rstrip("/") or path.endswith("/health") or op.get("security") == []


def _placeholders(op: dict[str, Any]) -> int:
    """How many of the call's values the developer would still have to put in."""
    return sum(
        1
        for p in op["parameters"]
        if (p["in"] == "path" or (p["in"] == "query" and p.get("required")))
        and parameter_value(p).startswith("YOUR_")
    )


def _simplest_get(operations: list[dict[str, Any]], health_path: str | None = None) -> dict[str, Any] | None:
    gets = [op for op in operations if op["method"] == "GET" and not op.get("deprecated")]
    data = [op for op in gets if not _is_check(op, health_path)] or gets
    # The first the spec lists (agencies list their main call first) among those ready to paste.
    return min(data, key=_placeholders, default=None)


def first_call(
    session: Session, application: Application, secret: str, gateway_url: str
) -> dict[str, str] | None:
    for api in _candidates(session, application):
        live = [v for v in api.versions if v.status in (VersionStatus.PUBLISHED, VersionStatus.DEPRECATED)]
        if not live:
            continue
        version = max(live, key=lambda v: semver.Version.parse(v.version))
        gateway_ext = (version.normalized.get("extensions") or {}).get("x-agora-gateway") or {}
        health = gateway_ext.get("health_path") if isinstance(gateway_ext, dict) else None
        operation = _simplest_get(
            version.normalized.get("operations", []), health if isinstance(health, str) else None
        )
        if operation is None:
            continue
        prefix = f"/{api.agency.slug}/{api.slug}/v{version.major}"
        curl = code_samples(gateway_url.rstrip("/"), prefix, operation, keyed=True)["curl"]
        return {
            "api": f"{api.agency.slug}/{api.slug}",
            "title": api.title,
            "operation": str(operation.get("summary") or operation["operation_id"] or operation["path"]),
            "curl": curl.replace(KEY_PLACEHOLDER, secret),
        }
    return None
