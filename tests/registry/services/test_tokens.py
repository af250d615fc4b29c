"""Admin tokens resolve to principals with their role and agency scope; anything else is refused."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput, Unauthorized
from agora.settings import Settings
from registry.models import Role, utcnow
from registry.services import tokens
from tests.registry import factories


def test_tokens_authenticate_with_role_and_scope(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions.begin() as session:
        a = factories.agency(session, "a")
        token, secret = tokens.create_token(
            session, name="ada", role=Role.AGENCY_ADMIN, agencies=[a], hmac_key=settings.hmac_key, actor="t"
        )
        who = tokens.authenticate(session, secret, hmac_key=settings.hmac_key)
        assert who.role is Role.AGENCY_ADMIN and who.agency_ids == frozenset({a.id})
        assert token.digest != secret and secret not in token.digest
        for bad in ("", "nonsense", secret + "x", secret[:-1], "agoradm_00000000_x"):
            with pytest.raises(Unauthorized):
                tokens.authenticate(session, bad, hmac_key=settings.hmac_key)
        token.revoked_at = utcnow()
        with pytest.raises(Unauthorized):
            tokens.authenticate(session, secret, hmac_key=settings.hmac_key)


def test_scope_must_fit_the_role(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions.begin() as session:
        a = factories.agency(session, "a")
        with pytest.raises(InvalidInput):
            tokens.create_token(
                session, name="x", role=Role.AGENCY_ADMIN, agencies=[], hmac_key=b"k", actor="t"
            )
        with pytest.raises(InvalidInput):
            tokens.create_token(session, name="x", role=Role.OPS, agencies=[a], hmac_key=b"k", actor="t")
