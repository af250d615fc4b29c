"""Agencies: the publishers."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.errors import Conflict, InvalidInput, NotFound
from registry.models import Agency
from registry.services import audit

__all__ = ["SLUG_RE", "agency_state", "check_slug", "create_agency", "get_agency", "list_agencies"]

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_slug(value: str, what: str) -> str:
    if not SLUG_RE.match(value):
        raise InvalidInput(
            f"{what} slug {value!r} must be 1-63 lowercase letters, digits or hyphens, "
            "not starting or ending with '-'"
        )
    return value


def agency_state(agency: Agency) -> dict[str, Any]:
    return {
        "slug": agency.slug,
        "name": agency.name,
        "contact_email": agency.contact_email,
        "website": agency.website,
    }


def create_agency(
    session: Session,
    *,
    slug: str,
    name: str,
    contact_email: str | None = None,
    website: str | None = None,
    actor: str,
) -> Agency:
    check_slug(slug, "agency")
    if not name.strip():
        raise InvalidInput("agency name must not be empty")
    if session.scalar(select(Agency.id).where(Agency.slug == slug)) is not None:
        raise Conflict(f"agency {slug!r} already exists")
    agency = Agency(slug=slug, name=name.strip(), contact_email=contact_email, website=website)
    session.add(agency)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agency.create",
        target_type="agency",
        target=slug,
        agency_id=agency.id,
        after=agency_state(agency),
    )
    return agency


def get_agency(session: Session, slug: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None:
        raise NotFound(f"agency {slug!r} does not exist")
    return agency


def list_agencies(session: Session, *, agency_ids: set[int] | None = None) -> list[Agency]:
    query = select(Agency).order_by(Agency.slug)
    if agency_ids is not None:
        query = query.where(Agency.id.in_(agency_ids))
    return list(session.scalars(query))
