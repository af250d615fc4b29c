"""Self-service: ownership, subscription rules, rename and delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput, NotFound
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
