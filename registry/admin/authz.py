"""Who may do what. Roles: platform-admin (all), agency-admin (own agencies), ops (read-only),
usage-ingest (posts usage records and accesses to personal data, nothing else). The log of accesses
to personal data is narrower than every other read: only the agency's own admins and platform admins,
never ops."""

from __future__ import annotations

from agora.errors import Forbidden
from registry.models import Role
from registry.services.tokens import Principal

__all__ = [
    "require_personal_data_reader", "require_platform_admin", "require_read", "require_usage_writer",
    "require_write", "require_writer", "scope",
]  # fmt: skip


def scope(principal: Principal) -> set[int] | None:
    """The agency ids a principal's listings are limited to; None means all agencies."""
    return None if principal.agency_ids is None else set(principal.agency_ids)


def require_read(principal: Principal, agency_id: int | None, what: str) -> None:
    if principal.agency_ids is not None and agency_id not in principal.agency_ids:
        raise Forbidden(f"{principal.actor} may not read {what}")


def require_write(principal: Principal, agency_id: int | None, what: str) -> None:
    if principal.role is Role.OPS:
        raise Forbidden(f"{principal.actor} is read-only")
    if principal.role is Role.PLATFORM_ADMIN:
        return
    if agency_id is None or principal.agency_ids is None or agency_id not in principal.agency_ids:
        raise Forbidden(f"{principal.actor} may not change {what}")


def require_writer(principal: Principal) -> None:
    """The part of `require_write` known before the target is: a read-only token writes nothing."""
    if principal.role is Role.OPS:
        raise Forbidden(f"{principal.actor} is read-only")


def require_platform_admin(principal: Principal, what: str) -> None:
    if principal.role is not Role.PLATFORM_ADMIN:
        raise Forbidden(f"only a platform admin may {what}")


def require_usage_writer(principal: Principal) -> None:
    """Usage feeds quotas and every agency's dashboards: only a platform admin or the usage-ingest
    role (the credential a Kong data plane holds) may write it."""
    if principal.role not in (Role.PLATFORM_ADMIN, Role.USAGE_INGEST):
        raise Forbidden("only a platform admin or a usage-ingest token may ingest what a data plane reports")


def require_personal_data_reader(principal: Principal, agency_id: int, agency: str) -> None:
    """Who read which person's data is itself personal: the audit of an agency's APIs is for that
    agency's admins and the platform's, not for read-only operators or other agencies."""
    if principal.role is Role.PLATFORM_ADMIN:
        return
    if principal.role is Role.AGENCY_ADMIN and principal.agency_ids and agency_id in principal.agency_ids:
        return
    raise Forbidden(f"{principal.actor} may not read the accesses to personal data of agency {agency}")
