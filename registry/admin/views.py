"""JSON shapes of registry objects, as the admin document's schemas declare them."""

from __future__ import annotations

from typing import Any

from registry.models import AccessGrant, Agency, Api, ApiVersion, Application, AuditEvent, Plan
from registry.services.agencies import agency_state
from registry.services.tokens import Principal

__all__ = [
    "agency_view",
    "api_view",
    "application_view",
    "audit_view",
    "grant_view",
    "plan_view",
    "principal_view",
    "version_detail_view",
    "version_view",
]


def agency_view(agency: Agency) -> dict[str, Any]:
    return agency_state(agency)


def version_view(row: ApiVersion) -> dict[str, Any]:
    return {
        "version": row.version,
        "status": row.status.value,
        "upstream_url": row.upstream_url,
        "sunset_date": row.sunset_date.isoformat() if row.sunset_date else None,
        "findings": len(row.findings),
        "spec_kind": row.spec_kind,
        "changelog": row.changelog,
        "published_at": row.published_at.isoformat() if row.published_at else None,
    }


def version_detail_view(row: ApiVersion) -> dict[str, Any]:
    return {
        **version_view(row),
        "finding_list": list(row.findings),
        "changes": list(row.changes),
        "operations": len(row.normalized.get("operations", [])),
    }


def api_view(api: Api) -> dict[str, Any]:
    return {
        "agency": api.agency.slug,
        "slug": api.slug,
        "title": api.title,
        "description": api.description,
        "tags": list(api.tags),
        "access_level": api.access_level.value,
        "versions": [version_view(v) for v in api.versions],
    }


def plan_view(plan: Plan, agency_slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "slug": plan.slug,
        "name": plan.name,
        "description": plan.description,
        "agency": agency_slugs.get(plan.agency_id) if plan.agency_id is not None else None,
        "approval_required": plan.approval_required,
        "limits": plan.limits(),
    }


def application_view(application: Application) -> dict[str, Any]:
    return {
        "id": application.id,
        "name": application.name,
        "description": application.description,
        "organisation": application.organisation,
        "developer": application.developer.email,
    }


def grant_view(grant: AccessGrant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "application": grant.application_id,
        "api": f"{grant.api.agency.slug}/{grant.api.slug}",
        "plan": grant.plan.slug,
        "state": grant.state.value,
        "justification": grant.justification,
        # What the agency weighs for an API with personal data (issue 16); null elsewhere.
        "purpose": grant.purpose,
        "legal_basis": grant.legal_basis,
        "organisation": grant.application.organisation,
        "reason": grant.reason,
    }


def audit_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target_type": event.target_type,
        "target": event.target,
        "before_digest": event.before_digest,
        "after_digest": event.after_digest,
        "detail": event.detail,
    }


def principal_view(principal: Principal, agency_slugs: list[str] | None) -> dict[str, Any]:
    return {"name": principal.name, "role": principal.role.value, "agencies": agency_slugs}
