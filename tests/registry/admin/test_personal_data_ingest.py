"""POST /admin/personal-data/ingest: the usage ingest's callers (a platform admin, a usage-ingest token),
problems for the rest and for a batch holding an identifier in clear."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from registry.models import PersonalDataAccess
from tests.registry.admin.conftest import World
from tests.registry.services.test_personal_data import access

URL = "/admin/personal-data/ingest"


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(PersonalDataAccess)) or 0)


def test_a_platform_admin_and_a_usage_ingest_token_post_batches(
    world: World, sessions: sessionmaker[Session]
) -> None:
    batch = {"records": [access("gw-1"), access("gw-2", status=404, outcome="refused")]}
    response = world.client.post(URL, json=batch, headers=world.platform)
    assert response.status_code == 200 and response.json() == {"received": 2, "inserted": 2}
    again = world.client.post(URL, json=batch, headers=world.ingest)  # the data plane's credential, a retry
    assert again.status_code == 200 and again.json() == {"received": 2, "inserted": 0}
    assert count(sessions) == 2


def test_other_callers_are_refused(world: World, sessions: sessionmaker[Session]) -> None:
    batch = {"records": [access()]}
    anonymous = world.client.post(URL, json=batch)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    for headers in (world.ops, world.admin_a):  # read-only, or one agency's: neither writes the log
        refused = world.client.post(URL, json=batch, headers=headers)
        assert refused.status_code == 403 and refused.json()["title"] == "Forbidden"
    assert count(sessions) == 0


def test_malformed_batches_are_problems_and_store_nothing(
    world: World, sessions: sessionmaker[Session]
) -> None:
    not_json = world.client.post(URL, content=b"{nope", headers=world.platform)
    assert not_json.status_code == 422 and "not JSON" in not_json.json()["detail"]
    clear = {"records": [access("gw-1"), access("gw-2", subject="185057512345678")]}
    refused = world.client.post(URL, json=clear, headers=world.platform)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"].startswith("/records/1/subject: expected a pseudonym")
    assert "185057512345678" not in refused.text  # the problem does not echo the identifier either
    assert count(sessions) == 0
