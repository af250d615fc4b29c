"""API keys: only a prefix and a digest are stored; rotation overlaps; revocation is immediate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import Conflict, InvalidInput
from agora.settings import Settings
from registry.models import AuditEvent, Credential, utcnow
from registry.secrets import verify
from registry.services import applications
from tests.registry import factories


def test_key_is_shown_once_and_stored_as_prefix_and_digest(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        app = factories.application(session, factories.plan(session))
        credential, secret = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor="t")
        credential_id = credential.id
    assert secret.startswith(credential.prefix + "_")
    with sessions() as session:
        row = session.get(Credential, credential_id)
        assert row is not None and verify(settings.hmac_key, secret, row.digest)
        # The secret appears nowhere in the database: dump every text column of every row.
        dumped = " ".join(
            str(value)
            for table in ("credentials", "audit_events", "applications")
            for record in session.execute(text(f"SELECT * FROM {table}"))
            for value in record
        )
    assert secret not in dumped
    assert secret.split("_", 2)[2] not in dumped


def test_rotation_keeps_the_old_key_for_the_overlap_only(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        app = factories.application(session, factories.plan(session))
        old, _ = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor="t")
        new, new_secret = applications.rotate_key(
            session, old, hmac_key=settings.hmac_key, overlap=timedelta(hours=2), actor="t"
        )
        assert new.rotated_from_id == old.id
        assert old.expires_at is not None
        assert timedelta(hours=1, minutes=59) < old.expires_at - utcnow() <= timedelta(hours=2)
        assert new.expires_at is None and new_secret.startswith(new.prefix)
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["credential.issue", "credential.rotate"]


def test_revoked_key_cannot_be_revoked_or_rotated_again(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        app = factories.application(session, factories.plan(session))
        key, _ = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor="t")
        applications.revoke_key(session, key, reason="leaked", actor="t")
        assert key.revoked_at is not None and key.revoked_reason == "leaked"
        with pytest.raises(Conflict):
            applications.revoke_key(session, key, reason="again", actor="t")
        with pytest.raises(Conflict, match="revoked"):
            applications.rotate_key(session, key, hmac_key=settings.hmac_key, overlap=timedelta(0), actor="t")


def test_developer_email_is_checked_and_unique(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        applications.create_developer(session, email="Ada@Example.org", actor="t")
        with pytest.raises(Conflict):
            applications.create_developer(session, email="ada@example.org", actor="t")
        with pytest.raises(InvalidInput):
            applications.create_developer(session, email="not-an-email", actor="t")
