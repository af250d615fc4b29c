"""What `make run` seeds for the personal-data demo: the register, the fund's application and grant, the
agency's admin, and the secrets that go to var/demo-credentials.json."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from examples import benefits_seed
from examples.seed import seed
from registry.compile.snapshot import compile_snapshot
from registry.models import AccessGrant, AccessLevel, AgencyMembership, Api, Developer, GrantState
from registry.secrets import prefix_of, verify
from registry.unit_of_work import change


def test_seeds_the_register_the_fund_and_its_purposeful_grant(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with change(sessions) as session:
        created = seed(session, settings)
    assert created["caf_portal_email"] == "it@caf.example"
    assert created["benefits_admin_portal_email"] == "admin@benefits.example.gov"
    assert created["caf_portal_password"] and created["benefits_admin_portal_password"]

    with sessions() as session:
        api = session.scalars(select(Api).where(Api.slug == "entitlements")).one()
        assert (api.agency.slug, api.agency.name) == ("benefits", "Family Benefits Office")
        assert api.access_level is AccessLevel.RESTRICTED
        assert [v.version for v in api.versions] == ["1.0.0"]

        grant = session.scalars(select(AccessGrant).where(AccessGrant.api_id == api.id)).one()
        assert grant.state is GrantState.APPROVED
        assert grant.application.id == created["benefits_application_id"]
        assert (grant.application.name, grant.application.organisation) == (
            "family-benefits-desk",
            "Caisse d'allocations familiales de l'Exemple",
        )
        assert grant.application.developer.email == "it@caf.example"
        assert (grant.purpose, grant.legal_basis) == (benefits_seed.PURPOSE, "public-task")
        assert grant.plan.slug == "benefits-partners" and grant.plan.agency_id == api.agency_id

        admin = session.scalars(
            select(Developer).where(Developer.email == "admin@benefits.example.gov")
        ).one()
        memberships = session.scalars(
            select(AgencyMembership).where(AgencyMembership.developer_id == admin.id)
        )
        assert [m.agency_id for m in memberships] == [api.agency_id]

        # What the gateway gets: the fund's key opens the register, the demo application's does not.
        consumers = {c["username"]: c for c in compile_snapshot(session)["consumers"]}
    desk = consumers["family-benefits-desk"]
    assert [g["api"] for g in desk["grants"]] == ["benefits/entitlements"]
    key = created["benefits_api_key"]
    (credential,) = desk["credentials"]
    assert credential["prefix"] == prefix_of(key) and not credential["sandbox"]
    assert verify(settings.hmac_key, key, credential["digest"])
    assert "benefits/entitlements" not in [g["api"] for g in consumers["demo-app"]["grants"]]


def test_seeding_again_creates_nothing(sessions: sessionmaker[Session], settings: Settings) -> None:
    with change(sessions) as session:
        seed(session, settings)
    with change(sessions) as session:
        again = seed(session, settings)
    assert not [name for name in again if not name.endswith("_email")]
    with sessions() as session:
        assert len(session.scalars(select(Developer).where(Developer.email == "it@caf.example")).all()) == 1
