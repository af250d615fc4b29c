"""The purpose rule (issue 16): an access request for an API with personal data states a purpose and one
of the API's declared legal bases; the grant keeps them; other APIs take no legal basis."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import Conflict, InvalidInput
from registry.models import AccessGrant, AccessLevel, Api, Application, AuditEvent, GrantState, Plan
from registry.services import apis, applications, audit, grants, purposes, self_service
from registry.unit_of_work import change
from tests.registry import factories

PURPOSE = "Checking a tenant's family situation for the housing benefit"


def _world(session: Session) -> tuple[Api, Api, Plan, Application]:
    factories.agency(session, "civil")
    factories.agency(session, "meteo")
    family = factories.personal_data_api(session, "civil")
    warnings = factories.example_api(session, "warnings", "meteo", AccessLevel.RESTRICTED)
    plan = factories.plan(session)
    return family, warnings, plan, factories.application(session, plan)


def _grants(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AccessGrant)) or 0)


def test_an_api_with_personal_data_needs_a_purpose_and_a_declared_legal_basis(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        family, _, plan, app = _world(session)

        def ask(purpose: str | None, legal_basis: str | None) -> AccessGrant:
            return grants.request_access(
                session,
                application=app,
                api=family,
                plan=plan,
                purpose=purpose,
                legal_basis=legal_basis,
                actor="dev",
            )

        with pytest.raises(InvalidInput) as missing:
            ask(None, None)
        assert missing.value.detail == (
            "Family records returns personal data: say for what purpose your application reads it; "
            "choose the legal basis of the access to Family records: one of public-task, legal-obligation"
        )
        with pytest.raises(InvalidInput, match="say for what purpose"):
            ask("   \n ", "public-task")  # blank once trimmed
        with pytest.raises(InvalidInput, match=r"2000 characters at most \(2001 given\)"):
            ask("x" * 2001, "public-task")
        with pytest.raises(InvalidInput) as unknown:
            ask(PURPOSE, "consent")
        assert unknown.value.detail == (
            "Family records declares no legal basis 'consent': choose one of public-task, legal-obligation"
        )
        assert _grants(session) == 0  # nothing written by a refused request

        grant = ask(f"  {PURPOSE}\n", " legal-obligation ")
        assert (grant.purpose, grant.legal_basis) == (PURPOSE, "legal-obligation")
        assert grant.state is GrantState.PENDING
        longest = grants.request_access(
            session,
            application=factories.application(session, plan, "other@example.org", "other"),
            api=family,
            plan=plan,
            purpose="y" * purposes.MAX_PURPOSE,
            legal_basis="public-task",
            actor="dev",
        )
        assert longest.purpose == "y" * 2000
    with sessions() as session:
        stored = session.get(AccessGrant, grant.id)
        assert stored is not None and stored.purpose == PURPOSE and stored.legal_basis == "legal-obligation"
        # The audit trail's digest covers what was asked: purpose and legal basis included.
        state = grants.grant_state(stored)
        assert (state["purpose"], state["legal_basis"]) == (PURPOSE, "legal-obligation")
        digests = session.scalars(select(AuditEvent.after_digest).where(AuditEvent.action == "grant.request"))
        assert audit.digest_state(state) in set(digests)


def test_asking_again_replaces_the_purpose_the_agency_refused(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        family, _, plan, app = _world(session)
        grant = grants.request_access(
            session,
            application=app,
            api=family,
            plan=plan,
            purpose="Marketing",
            legal_basis="public-task",
            actor="dev",
        )
        grants.decide(session, grant, GrantState.REFUSED, reason="not a public task", actor="agency")
        with pytest.raises(InvalidInput, match="say for what purpose"):
            grants.request_access(session, application=app, api=family, plan=plan, actor="dev")
        again = grants.request_access(
            session,
            application=app,
            api=family,
            plan=plan,
            purpose=PURPOSE,
            legal_basis="legal-obligation",
            actor="dev",
        )
        assert again.id == grant.id and again.state is GrantState.PENDING
        assert (again.purpose, again.legal_basis) == (PURPOSE, "legal-obligation")
        assert grants.grant_state(again)["purpose"] == PURPOSE  # the audit trail keeps what was asked


def test_an_api_without_personal_data_takes_no_legal_basis(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        _, warnings, plan, app = _world(session)
        assert purposes.declared_legal_bases(warnings) is None
        with pytest.raises(InvalidInput) as refused:
            grants.request_access(
                session, application=app, api=warnings, plan=plan, legal_basis="public-task", actor="dev"
            )
        assert refused.value.detail == (
            f"{warnings.title} returns no personal data: a legal basis is only chosen for an API that does"
        )
        grant = grants.request_access(
            session, application=app, api=warnings, plan=plan, purpose=" ", legal_basis="", actor="dev"
        )
        assert (grant.purpose, grant.legal_basis) == (None, None)


def test_a_purpose_checked_once_is_passed_down_not_checked_again(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        family, _, plan, app = _world(session)
        rule = purposes.purpose_rule(family)
        assert rule.asks_purpose and [b.id for b in rule.bases or ()] == ["public-task", "legal-obligation"]
        assert rule.problems(purpose=PURPOSE, legal_basis="public-task") == {}
        assert set(rule.problems(purpose=None, legal_basis="consent")) == {
            purposes.PURPOSE,
            purposes.LEGAL_BASIS,
        }
        checked = rule.checked(purpose=f" {PURPOSE} ", legal_basis="public-task")
        assert checked == purposes.Purpose(PURPOSE, "public-task")
        with pytest.raises(TypeError, match="not both"):  # two answers to one question: a caller's mistake
            grants.request_access(
                session, application=app, api=family, plan=plan, checked=checked, purpose=PURPOSE, actor="d"
            )
        grant = grants.request_access(
            session, application=app, api=family, plan=plan, checked=checked, actor="d"
        )
        assert (grant.purpose, grant.legal_basis) == (PURPOSE, "public-task")


def test_self_service_refuses_before_anything_even_while_a_request_is_pending(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        family, _, plan, app = _world(session)
        grant = self_service.subscribe(
            session,
            app,
            family,
            plan,
            justification="Housing benefit checks",
            purpose=PURPOSE,
            legal_basis="public-task",
            actor="dev",
        )
        assert grant.state is GrantState.PENDING and grant.legal_basis == "public-task"
        with pytest.raises(InvalidInput, match="legal basis"):
            self_service.subscribe(
                session, app, family, plan, justification="Housing benefit checks", purpose=PURPOSE, actor="d"
            )


def _version(spec: str, version: str, bases: list[dict[str, object]] | None) -> str:
    doc = yaml.safe_load(spec)
    doc["info"]["version"] = version
    if bases is None:
        del doc["x-agora-personal-data"]
        del doc["paths"]["/people/{nir}/family"]["get"]["x-agora-personal-data"]
    else:
        doc["x-agora-personal-data"]["legal-bases"] = bases
    return yaml.safe_dump(doc)


def _publish(session: Session, spec: str, *, draft: bool = False) -> None:
    apis.publish(
        session,
        agency_slug="civil",
        spec=spec,
        filename="family.yaml",
        upstream=None,
        api_slug="family",
        access_level=AccessLevel.RESTRICTED,  # only restricted APIs may declare personal data
        allow_breaking=True,
        draft=draft,
        actor="t",
    )


def test_the_legal_bases_are_those_of_the_versions_the_gateway_serves(
    sessions: sessionmaker[Session],
) -> None:
    consent = {"id": "consent", "title": "Consent", "retention-days": 365}
    spec = factories.PERSONAL_DATA_SPEC
    with change(sessions) as session:
        factories.agency(session, "civil")
        _publish(session, _version(spec, "1.0.0", None))
        family = apis.get_api(session, "civil", "family")
        assert purposes.declared_legal_bases(family) is None
        _publish(session, _version(spec, "2.0.0", [consent]), draft=True)
        session.refresh(family)
        assert purposes.declared_legal_bases(family) is None  # a draft is served to nobody
        apis.release(session, apis.get_version(session, "civil", "family", "2.0.0"), actor="t")
        session.refresh(family)
        assert [b.id for b in purposes.declared_legal_bases(family) or ()] == ["consent"]
        _publish(session, _version(spec, "3.0.0", [{"id": "public-task", "title": "Public task"}, consent]))
        session.refresh(family)
        # A grant covers every major: a basis of any served version may be chosen.
        assert [b.id for b in purposes.declared_legal_bases(family) or ()] == ["public-task", "consent"]
        apis.retire(session, apis.get_version(session, "civil", "family", "3.0.0"), actor="t")
        session.refresh(family)
        assert [b.id for b in purposes.declared_legal_bases(family) or ()] == ["consent"]


def test_a_developer_cannot_change_the_organisation_the_agency_decided_on(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        family, warnings, plan, app = _world(session)
        self_service.set_own_organisation(session, app, "  Acme Housing Ltd ", actor="dev")
        assert app.organisation == "Acme Housing Ltd"
        grants.request_access(session, application=app, api=warnings, plan=plan, actor="dev")
        self_service.set_own_organisation(session, app, "Acme Housing", actor="dev")  # no personal data
        grants.request_access(
            session,
            application=app,
            api=family,
            plan=plan,
            purpose=PURPOSE,
            legal_basis="public-task",
            actor="dev",
        )
        with pytest.raises(Conflict, match="asks for access to personal data from Family records as Acme"):
            self_service.set_own_organisation(session, app, "Ministry of the Interior", actor="dev")
        self_service.set_own_organisation(session, app, "Acme Housing", actor="dev")  # unchanged: fine
        with pytest.raises(InvalidInput, match="200 characters at most"):
            applications.set_organisation(session, app, "x" * 201, actor="ops")
        applications.set_organisation(session, app, "Acme Housing Cooperative", actor="cli:ops")
        assert app.organisation == "Acme Housing Cooperative"  # an operator corrects it
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action == "application.organisation"))
        )
    assert len(actions) == 3
