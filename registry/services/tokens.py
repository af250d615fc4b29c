"""Admin tokens: created by an operator, shown once, stored as HMAC digests; resolved to a Principal."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.errors import Forbidden, InvalidInput, Unauthorized
from registry.models import AdminToken, Agency, Role
from registry.secrets import digest, new_secret, prefix_of
from registry.services import audit

__all__ = ["Principal", "authenticate", "create_token", "principal_of"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the admin API. `agency_ids` is None for roles that see every agency, empty for
    the usage-ingest role, which sees none."""

    name: str
    role: Role
    agency_ids: frozenset[int] | None

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


def create_token(
    session: Session, *, name: str, role: Role, agencies: list[Agency], hmac_key: bytes, actor: str
) -> tuple[AdminToken, str]:
    if role is Role.AGENCY_ADMIN and not agencies:
        raise InvalidInput("an agency-admin token needs at least one agency")
    if role is not Role.AGENCY_ADMIN and agencies:
        raise InvalidInput(f"a {role.value} token is not scoped to agencies")
    secret = new_secret(hmac_key, kind="agoradm")
    token = AdminToken(name=name, prefix=secret.prefix, digest=secret.digest, role=role, agencies=agencies)
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        target_type="admin_token",
        target=name,
        after={"name": name, "role": role.value, "agencies": sorted(a.slug for a in agencies)},
    )
    return token, secret.value


def authenticate(session: Session, value: str, *, hmac_key: bytes, usage_ingest: bool = False) -> Principal:
    """The caller holding admin token `value`. A usage-ingest token is refused (403) unless `usage_ingest`
    says the caller is the usage ingest endpoint, so no other route needs to know that role."""
    prefix = prefix_of(value)
    token = session.scalar(select(AdminToken).where(AdminToken.prefix == prefix)) if prefix else None
    # Compare even when no token matched, so timing does not tell whether a prefix exists.
    expected = token.digest if token is not None else "0" * 64
    valid = hmac.compare_digest(digest(hmac_key, value), expected)
    if token is None or not valid or token.revoked_at is not None:
        raise Unauthorized("invalid or revoked admin token")
    if token.role is Role.USAGE_INGEST and not usage_ingest:
        raise Forbidden(f"token:{token.name} is a usage-ingest token: it may only post usage records")
    return principal_of(token)


def principal_of(token: AdminToken) -> Principal:
    """The caller a stored token stands for; a usage-ingest token sees no agency at all."""
    if token.role is Role.AGENCY_ADMIN:
        scope: frozenset[int] | None = frozenset(a.id for a in token.agencies)
    else:
        scope = frozenset() if token.role is Role.USAGE_INGEST else None
    return Principal(name=token.name, role=token.role, agency_ids=scope)
