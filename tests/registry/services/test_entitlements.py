"""What an application can call and under which plan: the rules the gateway's rate-limiting applies."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from registry.models import AccessLevel, GrantState
from registry.services import entitlements, grants, self_service
from registry.unit_of_work import change
from tests.registry import factories


def test_each_api_with_the_plan_that_applies(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "cadastre")
        factories.agency(session, "commerce")
        factories.agency(session, "meteo")
        free = factories.plan(session)
        silver = factories.plan(session, "silver")
        factories.example_api(session, "addresses", "cadastre", AccessLevel.OPEN)
        companies = factories.example_api(session, "companies", "commerce", AccessLevel.KEY)
        warnings = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
        app = factories.application(session, free)

        def rows() -> dict[str, entitlements.Entitlement]:
            return {e.api.slug: e for e in entitlements.application_entitlements(session, app)}

        before = rows()
        assert before["addresses"].callable and before["addresses"].plan is free
        assert before["companies"].callable and before["companies"].plan is free
        assert not before["warnings"].callable and before["warnings"].plan is None
        self_service.subscribe(session, app, companies, silver, justification="", actor="t")
        grant = self_service.subscribe(session, app, warnings, silver, justification="x" * 12, actor="t")
        middle = rows()
        assert middle["companies"].plan is silver and "subscribed" in middle["companies"].why
        assert not middle["warnings"].callable and "waiting" in middle["warnings"].why
        grants.decide(session, grant, GrantState.APPROVED, reason=None, actor="t")
        assert rows()["warnings"].plan is silver
