"""The fault suite's platform: two gateways and an admin (tests/integration/topology/stack.py) on a
private PostgreSQL and a private Redis that the tests stop and start again. The machine's shared
PostgreSQL and Redis, which other suites use at the same time, are never touched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.gateway.integration.conftest import start_gateway
from tests.integration.faults.postgres_server import PrivatePostgres
from tests.integration.topology.stack import Platform, create_database, start_platform
from tests.plugins.rate_limiting.redis_server import PrivateRedis

__all__ = ["platform", "private_postgres", "private_redis", "start_gateway"]  # start_gateway: the harness's


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def platform(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    url = create_database(private_postgres.server, f"agora_faults_{uuid.uuid4().hex[:8]}")
    started = start_platform(
        tmp_path_factory.mktemp("faults"),
        database_url=url,
        redis_url=private_redis.url,
    )
    try:
        yield started
    finally:
        started.stop()
