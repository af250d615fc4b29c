"""Plans: named sets of rate limits that applications and access grants refer to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agora.errors import Conflict, InvalidInput, NotFound
from registry.models import PERIODS, Agency, Plan
from registry.services import audit
from registry.services.agencies import check_slug

__all__ = ["create_plan", "get_plan", "list_plans", "plan_state", "update_plan"]


def plan_state(plan: Plan, agency_slug: str | None = None) -> dict[str, Any]:
    return {
        "slug": plan.slug,
        "name": plan.name,
        "description": plan.description,
        "agency": agency_slug,
        "approval_required": plan.approval_required,
        "limits": plan.limits(),
    }


# The columns are SQL INTEGER: PostgreSQL's holds 32 bits, and SQLite's driver overflows past 64.
MAX_LIMIT = 2**31 - 1


def _check_limits(limits: dict[str, int | None]) -> None:
    unknown = set(limits) - set(PERIODS)
    if unknown:
        raise InvalidInput(f"unknown limit period(s) {sorted(unknown)}; use {', '.join(PERIODS)}")
    for period, value in limits.items():
        if value is not None and not 1 <= value <= MAX_LIMIT:
            raise InvalidInput(
                f"limit per {period} must be an integer from 1 to {MAX_LIMIT} or empty, not {value}"
            )


def create_plan(
    session: Session,
    *,
    slug: str,
    name: str,
    limits: dict[str, int | None],
    description: str = "",
    approval_required: bool = False,
    agency: Agency | None = None,
    actor: str,
) -> Plan:
    check_slug(slug, "plan")
    _check_limits(limits)
    if session.scalar(select(Plan.id).where(Plan.slug == slug)) is not None:
        raise Conflict(f"plan {slug!r} already exists")
    plan = Plan(
        slug=slug,
        name=name,
        description=description,
        approval_required=approval_required,
        agency_id=agency.id if agency else None,
        **{f"per_{period}": limits.get(period) for period in PERIODS},
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="plan.create",
        target_type="plan",
        target=slug,
        agency_id=plan.agency_id,
        after=plan_state(plan, agency.slug if agency else None),
    )
    return plan


def update_plan(
    session: Session,
    plan: Plan,
    *,
    name: str | None = None,
    description: str | None = None,
    limits: dict[str, int | None] | None = None,
    approval_required: bool | None = None,
    actor: str,
) -> Plan:
    before = plan_state(plan)
    if approval_required is not None:
        plan.approval_required = approval_required
    if name is not None:
        plan.name = name
    if description is not None:
        plan.description = description
    if limits is not None:
        _check_limits(limits)
        for period, value in limits.items():
            setattr(plan, f"per_{period}", value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="plan.update",
        target_type="plan",
        target=plan.slug,
        agency_id=plan.agency_id,
        before=before,
        after=plan_state(plan),
    )
    return plan


def get_plan(session: Session, slug: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.slug == slug))
    if plan is None:
        raise NotFound(f"plan {slug!r} does not exist")
    return plan


def list_plans(session: Session, *, agency_ids: set[int] | None = None) -> list[Plan]:
    """All plans, or the platform-wide ones plus those of the given agencies."""
    query = select(Plan).order_by(Plan.slug)
    if agency_ids is not None:
        query = query.where(or_(Plan.agency_id.is_(None), Plan.agency_id.in_(agency_ids)))
    return list(session.scalars(query))
