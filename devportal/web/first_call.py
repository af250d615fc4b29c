"""A first call to paste, shown with a new key: the key already filled in, on an API the application
may call (an approved grant first, else an API any key opens), with its simplest GET operation."""

from __future__ import annotations

from typing import Any

import semver
from sqlalchemy import select
from sqlalchemy.orm import Session

from devportal.build.samples import KEY_PLACEHOLDER, code_samples
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


def _simplest_get(operations: list[dict[str, Any]]) -> dict[str, Any] | None:
    gets = [op for op in operations if op["method"] == "GET"]
    return min(gets, key=lambda op: (op["path"].count("{"), len(op["parameters"])), default=None)


def first_call(
    session: Session, application: Application, secret: str, gateway_url: str
) -> dict[str, str] | None:
    for api in _candidates(session, application):
        live = [v for v in api.versions if v.status in (VersionStatus.PUBLISHED, VersionStatus.DEPRECATED)]
        if not live:
            continue
        version = max(live, key=lambda v: semver.Version.parse(v.version))
        operation = _simplest_get(version.normalized.get("operations", []))
        if operation is None:
            continue
        prefix = f"/{api.agency.slug}/{api.slug}/v{version.major}"
        curl = code_samples(gateway_url.rstrip("/"), prefix, operation, keyed=True)["curl"]
        return {
            "api": f"{api.agency.slug}/{api.slug}",
            "title": api.title,
            "curl": curl.replace(KEY_PLACEHOLDER, secret),
        }
    return None
