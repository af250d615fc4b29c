"""Portal accounts: sign-up with a password (argon2), email verification, sign-in, OpenID Connect
identities, and agency memberships (who may decide access requests in the agency console).

An account is a `Developer` row. Passwords are hashed with argon2id; the hash is re-computed on
sign-in when the library's parameters have grown stronger since it was stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agora.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from registry.models import Agency, AgencyMembership, Developer, ExternalIdentity, MemberRole, utcnow
from registry.services import audit, portal_sessions
from registry.services.agencies import get_agency
from registry.services.applications import create_developer, get_developer

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "SignUp",
    "add_agency_admin",
    "admin_agencies",
    "authenticate",
    "find_developer",
    "is_agency_admin",
    "link_identity",
    "mark_verified",
    "password_fingerprint",
    "reset_password",
    "set_password",
    "sign_up",
]

MIN_PASSWORD_LENGTH = 10  # NIST SP 800-63B asks for at least 8; a passphrase is encouraged
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a failed sign-in costs the same either way.
_DUMMY_HASH = _hasher.hash("agora-no-such-account")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise InvalidInput("the password is too long")


@dataclass(frozen=True, slots=True)
class SignUp:
    """What a sign-up did: `created` is False when the address already had an account, which is then
    left exactly as it was (the caller mails its owner instead, and answers the same either way)."""

    developer: Developer
    created: bool


def sign_up(session: Session, *, email: str, password: str, name: str = "") -> SignUp:
    """A new, unverified account; an existing account is never changed (issue 14, item 5: a stranger
    must not set the password of an account an operator or an OpenID Provider created)."""
    _check_password(password)
    hashed = _hasher.hash(password)  # also for a known address: the answer takes the same time
    email = email.strip().lower()
    developer = session.scalar(select(Developer).where(Developer.email == email))
    if developer is not None:
        return SignUp(developer, created=False)
    developer = create_developer(session, email=email, name=name.strip(), actor=f"portal:{email}")
    developer.password_hash = hashed
    session.flush()
    return SignUp(developer, created=True)


def password_fingerprint(developer: Developer) -> str:
    """Changes whenever the password does: a reset link bound to it works once."""
    return hashlib.sha256((developer.password_hash or "no-password").encode()).hexdigest()[:32]


def reset_password(
    session: Session, *, developer_id: int, email: str, fingerprint: str, password: str
) -> Developer:
    """Sets the password through a reset link. Following the link proves the mailbox, so the email is
    verified too; every session of the account is closed (whoever held one is signed out)."""
    _check_password(password)
    developer = session.get(Developer, developer_id)
    if developer is None or developer.email != email:
        raise NotFound("this reset link does not match an account")
    if not hmac.compare_digest(password_fingerprint(developer), fingerprint):
        raise InvalidInput("this reset link has already been used: ask for a new one")
    developer.password_hash = _hasher.hash(password)
    if developer.email_verified_at is None:
        developer.email_verified_at = utcnow()
    portal_sessions.close_all(session, developer)
    session.flush()
    audit.record(
        session,
        actor=f"portal:{email}",
        action="developer.reset-password",
        target_type="developer",
        target=email,
    )
    return developer


def find_developer(session: Session, email: str) -> Developer | None:
    return session.scalar(select(Developer).where(Developer.email == email.strip().lower()))


def set_password(session: Session, developer: Developer, password: str, *, actor: str) -> None:
    """An operator's act (the demo seed, a reset): the account keeps its verification state."""
    _check_password(password)
    developer.password_hash = _hasher.hash(password)
    session.flush()
    audit.record(
        session, actor=actor, action="developer.set-password", target_type="developer", target=developer.email
    )


def mark_verified(session: Session, developer_id: int, email: str) -> Developer | None:
    """The account, when this call verified it; None when it was verified already. A confirmation link
    confirms once: opened again (another browser, a forwarded mail) it must sign nobody in."""
    developer = session.get(Developer, developer_id)
    if developer is None or developer.email != email:
        raise NotFound("this verification link does not match an account")
    if developer.email_verified_at is not None:
        return None
    developer.email_verified_at = utcnow()
    audit.record(
        session, actor=f"portal:{email}", action="developer.verify", target_type="developer", target=email
    )
    return developer


def authenticate(session: Session, *, email: str, password: str) -> Developer:
    """The account, if the password matches; Forbidden while the email is not verified."""
    developer = session.scalar(select(Developer).where(Developer.email == email.strip().lower()))
    stored = developer.password_hash if developer is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Unauthorized("wrong email or password") from None
    if developer is None or stored is None:
        raise Unauthorized("wrong email or password")
    if developer.email_verified_at is None:
        raise Forbidden("confirm your email address first: follow the link we sent you")
    if _hasher.check_needs_rehash(stored):
        developer.password_hash = _hasher.hash(password)
    return developer


def link_identity(
    session: Session, *, issuer: str, subject: str, email: str | None, email_verified: bool, name: str = ""
) -> Developer:
    """The account of an OpenID Provider's subject, linked or created on first sign-in. An existing
    account is linked by email only when the provider vouches for that email; an unverified one loses
    its password, which nobody proved was the owner's."""
    identity = session.scalar(
        select(ExternalIdentity).where(ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject)
    )
    if identity is not None:
        return identity.developer
    if not email or not email_verified:
        raise Forbidden("the identity provider did not confirm an email address for this account")
    email = email.strip().lower()
    developer = session.scalar(select(Developer).where(Developer.email == email))
    if developer is None:
        developer = create_developer(session, email=email, name=name, verified=True, actor=f"oidc:{issuer}")
    elif developer.email_verified_at is None:
        # Whoever set this unverified account's password never proved the address: the provider's
        # owner of it now does, and the stranger's password must not open the account (item 5).
        developer.password_hash = None
        developer.email_verified_at = utcnow()
    session.add(ExternalIdentity(developer=developer, issuer=issuer, subject=subject))
    session.flush()
    audit.record(
        session,
        actor=f"oidc:{issuer}",
        action="developer.link-identity",
        target_type="developer",
        target=email,
        detail={"issuer": issuer},
    )
    return developer


def add_agency_admin(session: Session, *, agency_slug: str, email: str, actor: str) -> AgencyMembership:
    agency = get_agency(session, agency_slug)
    try:
        developer = get_developer(session, email)
    except NotFound:
        # The operator vouches for the address; the person sets a password through a reset link
        # (signing up with the address mails one) or signs in through the OpenID Provider.
        developer = create_developer(session, email=email, verified=True, actor=actor)
    existing = session.scalar(
        select(AgencyMembership).where(
            AgencyMembership.developer_id == developer.id, AgencyMembership.agency_id == agency.id
        )
    )
    if existing is not None:
        raise Conflict(f"{developer.email} is already an admin of {agency.slug}")
    membership = AgencyMembership(developer=developer, agency=agency, role=MemberRole.ADMIN)
    session.add(membership)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agency.add-admin",
        target_type="agency",
        target=agency.slug,
        agency_id=agency.id,
        detail={"email": developer.email},
    )
    return membership


def admin_agencies(session: Session, developer: Developer) -> list[Agency]:
    query = (
        select(Agency)
        .join(AgencyMembership, AgencyMembership.agency_id == Agency.id)
        .where(AgencyMembership.developer_id == developer.id)
        .order_by(Agency.slug)
    )
    return list(session.scalars(query))


def is_agency_admin(session: Session, developer: Developer, agency: Agency) -> bool:
    return (
        session.scalar(
            select(AgencyMembership.id).where(
                AgencyMembership.developer_id == developer.id, AgencyMembership.agency_id == agency.id
            )
        )
        is not None
    )
