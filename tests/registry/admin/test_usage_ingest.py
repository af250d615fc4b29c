"""POST /admin/usage/ingest: platform admins only, both body shapes, problems for the rest."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from registry.models import UsageRecord
from tests.registry.admin.conftest import World
from tests.registry.services.test_usage import kong_entry, record

URL = "/admin/usage/ingest"


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(UsageRecord)) or 0)


def test_platform_admin_posts_agora_batches_and_kong_arrays(
    world: World, sessions: sessionmaker[Session]
) -> None:
    batch = {"records": [record("r-1"), record("r-2")]}
    response = world.client.post(URL, json=batch, headers=world.platform)
    assert response.status_code == 200
    assert response.json() == {"received": 2, "inserted": 2, "skipped": 0}
    assert world.client.post(URL, json=batch, headers=world.platform).json()["inserted"] == 0
    kong = [kong_entry("k-1"), kong_entry("k-2", service=None)]
    response = world.client.post(URL, json=kong, headers=world.platform)
    assert response.json() == {"received": 2, "inserted": 1, "skipped": 1}
    assert count(sessions) == 3


def test_other_callers_are_refused(world: World, sessions: sessionmaker[Session]) -> None:
    batch = {"records": [record()]}
    anonymous = world.client.post(URL, json=batch)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert "Bearer" in anonymous.headers["www-authenticate"]
    for headers in (world.ops, world.admin_a):
        refused = world.client.post(URL, json=batch, headers=headers)
        assert refused.status_code == 403 and refused.json()["title"] == "Forbidden"
    assert count(sessions) == 0


def test_malformed_bodies_are_problems(world: World, sessions: sessionmaker[Session]) -> None:
    not_json = world.client.post(URL, content=b"{nope", headers=world.platform)
    assert not_json.status_code == 422 and "not JSON" in not_json.json()["detail"]
    bad = world.client.post(URL, json={"records": [record(status=700)]}, headers=world.platform)
    assert bad.status_code == 422 and "/records/0/status" in bad.json()["detail"]
    assert count(sessions) == 0
