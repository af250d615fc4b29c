"""A private Redis per test module, for the tests that stop it or count its commands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugins.rate_limiting.redis_server import PrivateRedis

SHARED_REDIS = "redis://127.0.0.1:6379/0"  # the machine's Redis: keys of our own only, never flushed


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
