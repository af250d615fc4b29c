"""The served site follows the registry: the fingerprint moves with catalogue changes only."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from devportal.rebuild import catalogue_fingerprint
from registry.services import applications, plans
from registry.unit_of_work import change


def test_fingerprint_moves_with_the_catalogue_not_with_sign_ups(
    sessions: sessionmaker[Session], seeded: dict[str, str]
) -> None:
    with sessions() as session:
        before = catalogue_fingerprint(session)
    with change(sessions) as session:
        applications.create_developer(session, email="someone@example.org", actor="t")
    with sessions() as session:
        assert catalogue_fingerprint(session) == before
    with change(sessions) as session:
        plans.create_plan(session, slug="gold", name="Gold", limits={"day": 5}, actor="t")
    with sessions() as session:
        after = catalogue_fingerprint(session)
    assert after is not None and before is not None and after > before
