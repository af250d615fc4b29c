"""Access grants follow their state machine; refusing and revoking need a reason; all is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput, InvalidTransition
from registry.models import TRANSITIONS, AccessLevel, AuditEvent, GrantState
from registry.services import grants
from tests.registry import factories


def test_every_transition_outside_the_table_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        factories.agency(session, "meteo")
        api = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        plan = factories.plan(session)
        app = factories.application(session, plan)
        grant = grants.request_access(session, application=app, api=api, plan=plan, actor="t")
        assert grant.state is GrantState.PENDING
        for state in GrantState:
            for target in GrantState:
                grant.state = state
                if target in TRANSITIONS[state]:
                    continue
                with pytest.raises(InvalidTransition):
                    grants.decide(session, grant, target, reason="r", actor="t")


def test_request_approve_revoke_and_ask_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        factories.agency(session, "meteo")
        api = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        plan = factories.plan(session)
        app = factories.application(session, plan)
        grant = grants.request_access(
            session, application=app, api=api, plan=plan, justification="why", actor="dev"
        )
        grants.decide(session, grant, GrantState.APPROVED, reason=None, actor="agency")
        assert grant.decided_by == "agency" and grant.decided_at is not None
        with pytest.raises(InvalidInput, match="reason"):
            grants.decide(session, grant, GrantState.REVOKED, reason=" ", actor="agency")
        grants.decide(session, grant, GrantState.REVOKED, reason="contract ended", actor="agency")
        again = grants.request_access(session, application=app, api=api, plan=plan, actor="dev")
        assert again.id == grant.id and again.state is GrantState.PENDING and again.reason is None
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "grant")))
    assert actions == ["grant.request", "grant.approved", "grant.revoked", "grant.pending"]
