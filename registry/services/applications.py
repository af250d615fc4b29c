"""Developers, their applications, and API keys: issue, rotate with an overlap, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.errors import Conflict, InvalidInput, NotFound
from registry.models import Application, Credential, Developer, Plan, utcnow
from registry.secrets import new_secret
from registry.services import audit

__all__ = [
    "checked_organisation",
    "create_application",
    "create_developer",
    "credential_state",
    "get_application",
    "get_developer",
    "issue_key",
    "revoke_key",
    "rotate_key",
    "set_organisation",
]

MAX_ORGANISATION = 200  # the column's length


def credential_state(credential: Credential) -> dict[str, Any]:
    return {
        "id": credential.id,
        "prefix": credential.prefix,
        "sandbox": credential.sandbox,
        "expires_at": credential.expires_at.isoformat() if credential.expires_at else None,
        "revoked_at": credential.revoked_at.isoformat() if credential.revoked_at else None,
    }


def create_developer(
    session: Session, *, email: str, name: str = "", verified: bool = False, actor: str
) -> Developer:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"{email!r} is not an email address")
    if session.scalar(select(Developer.id).where(Developer.email == email)) is not None:
        raise Conflict(f"developer {email} already exists")
    developer = Developer(email=email, name=name, email_verified_at=utcnow() if verified else None)
    session.add(developer)
    session.flush()
    audit.record(session, actor=actor, action="developer.create", target_type="developer", target=email)
    return developer


def get_developer(session: Session, email: str) -> Developer:
    developer = session.scalar(select(Developer).where(Developer.email == email.strip().lower()))
    if developer is None:
        raise NotFound(f"developer {email} does not exist")
    return developer


def checked_organisation(organisation: str) -> str:
    """The body an application acts for, trimmed; empty for a developer's own project."""
    text = organisation.strip()
    if len(text) > MAX_ORGANISATION:
        raise InvalidInput(
            f"an organisation name has {MAX_ORGANISATION} characters at most ({len(text)} given)"
        )
    return text


def create_application(
    session: Session,
    *,
    developer: Developer,
    name: str,
    plan: Plan,
    description: str = "",
    organisation: str = "",
    actor: str,
) -> Application:
    if not name.strip():
        raise InvalidInput("application name must not be empty")
    application = Application(
        developer=developer,
        name=name.strip(),
        plan_id=plan.id,
        description=description,
        organisation=checked_organisation(organisation),
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="application.create",
        target_type="application",
        target=application.id,
        after={
            "name": application.name,
            "developer": developer.email,
            "plan": plan.slug,
            "organisation": application.organisation,
        },
    )
    return application


def set_organisation(
    session: Session, application: Application, organisation: str, *, actor: str
) -> Application:
    """Names the body the application acts for: people whose data it reads are shown this name."""
    before = {"organisation": application.organisation}
    application.organisation = checked_organisation(organisation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="application.organisation",
        target_type="application",
        target=application.id,
        before=before,
        after={"organisation": application.organisation},
    )
    return application


def get_application(session: Session, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"application {application_id} does not exist")
    return application


def issue_key(
    session: Session,
    application: Application,
    *,
    hmac_key: bytes,
    sandbox: bool = False,
    expires_at: datetime | None = None,
    actor: str,
) -> tuple[Credential, str]:
    """Returns the stored credential and the secret, which is never stored nor shown again."""
    secret = new_secret(hmac_key)
    credential = Credential(
        application=application,
        prefix=secret.prefix,
        digest=secret.digest,
        sandbox=sandbox,
        expires_at=expires_at,
    )
    session.add(credential)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="credential.issue",
        target_type="credential",
        target=credential.id,
        after=credential_state(credential),
    )
    return credential, secret.value


def _live(credential: Credential) -> None:
    now = utcnow()
    if credential.revoked_at is not None:
        raise Conflict(f"key {credential.prefix} is revoked")
    if credential.expires_at is not None and credential.expires_at <= now:
        raise Conflict(f"key {credential.prefix} has expired")


def rotate_key(
    session: Session, old: Credential, *, hmac_key: bytes, overlap: timedelta, actor: str
) -> tuple[Credential, str]:
    """A new key now; the old one keeps working for `overlap`, so clients can switch without downtime."""
    _live(old)
    if overlap < timedelta(0):
        raise InvalidInput("overlap must not be negative")
    before = credential_state(old)
    ends = utcnow() + overlap
    if old.expires_at is None or old.expires_at > ends:
        old.expires_at = ends
    credential, value = issue_key(
        session, old.application, hmac_key=hmac_key, sandbox=old.sandbox, expires_at=None, actor=actor
    )
    credential.rotated_from_id = old.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="credential.rotate",
        target_type="credential",
        target=old.id,
        before=before,
        after=credential_state(old),
        detail={"successor": credential.id, "overlap_seconds": str(int(overlap.total_seconds()))},
    )
    return credential, value


def revoke_key(session: Session, credential: Credential, *, reason: str, actor: str) -> Credential:
    if credential.revoked_at is not None:
        raise Conflict(f"key {credential.prefix} is already revoked")
    before = credential_state(credential)
    credential.revoked_at = utcnow()
    credential.revoked_reason = reason
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="credential.revoke",
        target_type="credential",
        target=credential.id,
        before=before,
        after=credential_state(credential),
        detail={"reason": reason},
    )
    return credential
