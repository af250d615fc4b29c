"""One platform for the topology tests: two gateways and an admin on the machine's real PostgreSQL (a
database of our own, dropped at the end) and Redis (keys of our own, deleted at the end)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.integration.topology.stack import Platform, create_database, drop_database, start_platform
from tests.plugins.rate_limiting.conftest import SHARED_REDIS
from tests.plugins.rate_limiting.redis_server import delete_keys

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    name = f"agora_topology_{uuid.uuid4().hex[:12]}"
    url = create_database(PG_SERVER, name)
    started = None
    try:
        started = start_platform(
            tmp_path_factory.mktemp("topology"), database_url=url, redis_url=SHARED_REDIS
        )
        yield started
    finally:
        if started is not None:
            started.stop()
        delete_keys(SHARED_REDIS, "agora:rl:topo.*")
        drop_database(PG_SERVER, name)
