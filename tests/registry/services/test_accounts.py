"""Portal accounts: argon2 passwords, verification, OIDC identities, agency memberships."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from registry.models import AuditEvent, Developer
from registry.services import accounts, applications
from registry.unit_of_work import change
from tests.registry import factories

PASSWORD = "a long enough passphrase"


def test_sign_up_verify_and_authenticate(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        developer = accounts.sign_up(session, email=" Dev@Example.org ", password=PASSWORD).developer
        developer_id = developer.id
        assert developer.email == "dev@example.org" and developer.password_hash != PASSWORD
    with change(sessions) as session, pytest.raises(Forbidden):
        accounts.authenticate(session, email="dev@example.org", password=PASSWORD)
    with change(sessions) as session:
        accounts.mark_verified(session, developer_id, "dev@example.org")
    with change(sessions) as session:
        assert accounts.authenticate(session, email="DEV@example.org", password=PASSWORD).id == developer_id
        with pytest.raises(Unauthorized):
            accounts.authenticate(session, email="dev@example.org", password="wrong password!")
        with pytest.raises(Unauthorized):
            accounts.authenticate(session, email="nobody@example.org", password=PASSWORD)


def test_verification_must_match_the_account(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        developer = accounts.sign_up(session, email="a@example.org", password=PASSWORD).developer
        with pytest.raises(NotFound):
            accounts.mark_verified(session, developer.id, "b@example.org")


def test_sign_up_refuses_short_passwords_and_never_changes_an_existing_account(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        with pytest.raises(InvalidInput):
            accounts.sign_up(session, email="a@example.org", password="short")
        applications.create_developer(session, email="ops-made@example.org", verified=True, actor="t")
    with change(sessions) as session:
        attempt = accounts.sign_up(session, email="ops-made@example.org", password=PASSWORD)
        assert not attempt.created
        assert attempt.developer.password_hash is None and attempt.developer.email_verified_at is not None


def test_a_reset_link_sets_the_password_once_and_verifies(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        developer = applications.create_developer(session, email="r@example.org", actor="t")
        fingerprint = accounts.password_fingerprint(developer)
        developer_id = developer.id
    with change(sessions) as session:
        reset = accounts.reset_password(
            session,
            developer_id=developer_id,
            email="r@example.org",
            fingerprint=fingerprint,
            password=PASSWORD,
        )
        assert reset.email_verified_at is not None
    with change(sessions) as session, pytest.raises(InvalidInput, match="already been used"):
        accounts.reset_password(
            session,
            developer_id=developer_id,
            email="r@example.org",
            fingerprint=fingerprint,
            password=PASSWORD,
        )
    with change(sessions) as session:
        assert accounts.authenticate(session, email="r@example.org", password=PASSWORD).id == developer_id


def test_link_identity_creates_then_finds_and_links_by_verified_email(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        first = accounts.link_identity(
            session, issuer="http://op", subject="s1", email="X@Example.org", email_verified=True
        )
        again = accounts.link_identity(
            session, issuer="http://op", subject="s1", email=None, email_verified=False
        )
        assert first.id == again.id and first.email_verified_at is not None
        with pytest.raises(Forbidden):
            accounts.link_identity(
                session, issuer="http://op", subject="s2", email="y@example.org", email_verified=False
            )
        existing = accounts.sign_up(session, email="z@example.org", password=PASSWORD).developer
        linked = accounts.link_identity(
            session, issuer="http://op", subject="s3", email="z@example.org", email_verified=True
        )
        assert linked.id == existing.id and linked.email_verified_at is not None
        assert linked.password_hash is None, "a password nobody proved does not survive the link"


def test_agency_admins(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        meteo = factories.agency(session, "meteo")
        other = factories.agency(session, "other")
        membership = accounts.add_agency_admin(
            session, agency_slug="meteo", email="boss@meteo.example", actor="cli:t"
        )
        developer = membership.developer
        assert developer.email_verified_at is not None
        assert accounts.admin_agencies(session, developer) == [meteo]
        assert accounts.is_agency_admin(session, developer, meteo)
        assert not accounts.is_agency_admin(session, developer, other)
        with pytest.raises(Conflict):
            accounts.add_agency_admin(session, agency_slug="meteo", email="boss@meteo.example", actor="cli:t")
        actions = set(session.scalars(select(AuditEvent.action)))
        assert "agency.add-admin" in actions
        assert session.scalar(select(Developer).where(Developer.email == "boss@meteo.example")) is not None
