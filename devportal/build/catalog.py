"""Reads the registry into the plain, JSON-serialisable data the portal pages are rendered from.

Everything a page shows comes from here, so a page's inputs can be hashed (see `incremental`) and
a rebuild after a registry change rewrites only the pages whose data changed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import semver
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from devportal.build.personal_data import personal_data_view
from registry.models import Agency, Api, ApiVersion, Plan, UsageRecord, VersionStatus, utcnow

__all__ = ["STATUS_DAYS", "load_catalogue", "version_slug"]

STATUS_DAYS = 7  # status shows the last complete days only, so pages change at most once a day
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]")


def version_slug(version: str) -> str:
    return _UNSAFE.sub("-", version)


def _plan(plan: Plan) -> dict[str, Any]:
    return {
        "slug": plan.slug,
        "name": plan.name,
        "description": plan.description,
        "approval_required": plan.approval_required,
        "limits": plan.limits(),
    }


def _status(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=STATUS_DAYS)
    query = (
        select(
            UsageRecord.agency,
            UsageRecord.api,
            func.count(),
            func.count().filter(UsageRecord.status >= 500),
            func.avg(UsageRecord.latency_ms),
        )
        .where(UsageRecord.at >= start, UsageRecord.at < today)
        .group_by(UsageRecord.agency, UsageRecord.api)
    )
    return {
        (agency, api): {
            "days": STATUS_DAYS,
            "until": today.date().isoformat(),
            "calls": int(calls),
            "errors": int(errors or 0),
            "availability": round(100.0 * (1 - (errors or 0) / calls), 2) if calls else None,
            "mean_latency_ms": round(float(latency or 0.0), 1),
        }
        for agency, api, calls, errors, latency in session.execute(query)
    }


def _version(api: Api, row: ApiVersion, successor: dict[str, str] | None) -> dict[str, Any]:
    return {
        "agency": api.agency.slug,
        "api": api.slug,
        "version": row.version,
        "slug": version_slug(row.version),
        "major": row.major,
        "status": row.status.value,
        "sunset": row.sunset_date.isoformat() if row.sunset_date else None,
        "successor": successor,
        "published_at": row.published_at.date().isoformat() if row.published_at else None,
        "spec_kind": row.spec_kind,
        "spec_format": row.spec_format,
        "spec_text": row.spec_text,
        "findings": list(row.findings),
        "changes": list(row.changes),
        "changelog": row.changelog,
        "normalized": row.normalized,
        "personal_data": personal_data_view(row.normalized),
        "prefix": f"/{api.agency.slug}/{api.slug}/v{row.major}",
    }


def _api_versions(api: Api) -> list[dict[str, Any]]:
    shown = [v for v in api.versions if v.status is not VersionStatus.DRAFT]
    shown.sort(key=lambda v: semver.Version.parse(v.version), reverse=True)
    newest_live = next((v for v in shown if v.status is not VersionStatus.RETIRED), None)
    versions = []
    for row in shown:
        successor = None
        if newest_live is not None and newest_live.major > row.major:
            successor = {"version": newest_live.version, "slug": version_slug(newest_live.version)}
        versions.append(_version(api, row, successor))
    return versions


def load_catalogue(session: Session, *, gateway_url: str) -> dict[str, Any]:
    """`{gateway_url, agencies, apis, plans}`; each API carries its shown versions, newest first."""
    status = _status(session)
    plans = list(session.scalars(select(Plan).order_by(Plan.slug)))
    agencies = list(session.scalars(select(Agency).order_by(Agency.slug)))
    slugs = {a.id: a.slug for a in agencies}
    apis = []
    for api in session.scalars(select(Api).options(selectinload(Api.versions))).unique():
        versions = _api_versions(api)
        if not versions:
            continue  # drafts only: nothing public yet
        latest = next((v for v in versions if v["status"] != "retired"), versions[0])
        apis.append(
            {
                "agency": api.agency.slug,
                "agency_name": api.agency.name,
                "slug": api.slug,
                "title": api.title,
                "description": api.description,
                "tags": list(api.tags),
                "access": api.access_level.value,
                "versions": versions,
                "latest": latest,
                # What the API page says of personal data is what its current version declares.
                "personal_data": latest["personal_data"],
                "plans": [_plan(p) for p in plans if p.agency_id in (None, api.agency_id)],
                "status": status.get((api.agency.slug, api.slug)),
            }
        )
    apis.sort(key=lambda a: (a["agency"], a["slug"]))
    return {
        "gateway_url": gateway_url.rstrip("/"),
        "agencies": [
            {
                "slug": a.slug,
                "name": a.name,
                "contact_email": a.contact_email,
                "website": a.website,
                "apis": [
                    {k: x[k] for k in ("slug", "title", "access", "tags")}
                    for x in apis
                    if x["agency"] == a.slug
                ],
            }
            for a in agencies
        ],
        "apis": apis,
        "plans": {p.slug: {**_plan(p), "agency": slugs.get(p.agency_id or 0)} for p in plans},
    }
