"""Self-service: ownership, subscription rules, rename and delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import Conflict, InvalidInput, NotFound
from registry.models import AccessGrant, AccessLevel, Application, GrantState
from registry.services import applications, self_service
from registry.unit_of_work import change
from tests.registry import factories


def test_subscribe_key_api_at_once_restricted_pending(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "commerce")
        factories.agency(session, "meteo")
        free = factories.plan(session)
        key_api = factories.example_api(session, "companies", "commerce", AccessLevel.KEY)
        restricted = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        app = factories.application(session, free)
        assert (
            self_service.subscribe(session, app, key_api, free, justification="", actor="t").state
            is GrantState.APPROVED
        )
        with pytest.raises(InvalidInput):
            self_service.subscribe(session, app, restricted, free, justification="short", actor="t")
        grant = self_service.subscribe(
            session, app, restricted, free, justification="a real reason here", actor="t"
        )
        assert grant.state is GrantState.PENDING
        # Asking again while pending changes nothing.
        assert (
            self_service.subscribe(session, app, restricted, free, justification="again, again", actor="t")
            is grant
        )
        other_agency_plan = factories.plan(session, "commerce-gold", owner=key_api.agency)
        with pytest.raises(InvalidInput):
            self_service.subscribe(
                session, app, restricted, other_agency_plan, justification="x" * 20, actor="t"
            )
        assert [p.slug for p in self_service.offered_plans(session, restricted)] == ["free"]


def test_a_plan_that_needs_approval_waits_for_the_agency_even_on_a_key_api(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        factories.agency(session, "commerce")
        free = factories.plan(session)
        gold = factories.plan(session, "gold")
        gold.approval_required = True
        silver = factories.plan(session, "silver")
        key_api = factories.example_api(session, "companies", "commerce", AccessLevel.KEY)
        app = factories.application(session, free)
        assert self_service.subscription_needs_approval(key_api, gold)
        assert not self_service.subscription_needs_approval(key_api, silver)
        with pytest.raises(InvalidInput, match="10 characters"):
            self_service.subscribe(session, app, key_api, gold, justification="", actor="t")
        pending = self_service.subscribe(session, app, key_api, gold, justification="x" * 12, actor="t")
        assert pending.state is GrantState.PENDING
        other = factories.application(session, free, email="other@example.org")
        granted = self_service.subscribe(session, other, key_api, free, justification="", actor="t")
        assert granted.state is GrantState.APPROVED
        # An approved subscription moves to another self-service plan at once, not to one needing approval.
        moved = self_service.subscribe(session, other, key_api, silver, justification="", actor="t")
        assert moved is granted and moved.plan.slug == "silver" and moved.state is GrantState.APPROVED
        with pytest.raises(Conflict, match="needs the agency's approval"):
            self_service.subscribe(session, other, key_api, gold, justification="x" * 12, actor="t")


def test_ownership_rename_delete(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        free = factories.plan(session)
        app = factories.application(session, free, email="owner@example.org")
        stranger = applications.create_developer(session, email="stranger@example.org", actor="t")
        with pytest.raises(NotFound):
            self_service.own_application(session, stranger, app.id)
        credential, _ = applications.issue_key(session, app, hmac_key=b"k" * 32, actor="t")
        with pytest.raises(NotFound):
            self_service.own_credential(session, stranger, credential.id)
        with pytest.raises(InvalidInput):
            self_service.rename_application(session, app, "  ", actor="t")
        self_service.rename_application(session, app, "renamed", actor="t")
        assert self_service.default_plan(session).slug == "free"
        app_id = app.id
        self_service.delete_application(session, app, actor="t")
    with sessions() as session:
        assert session.get(Application, app_id) is None
        assert session.scalar(select(AccessGrant).where(AccessGrant.application_id == app_id)) is None


def test_no_plan_means_no_application(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session, pytest.raises(NotFound):
        self_service.default_plan(session)
