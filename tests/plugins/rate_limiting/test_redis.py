"""The `redis` policy against real Redis servers: the policy contract on the shared Redis, one command
per call, counter lifetimes, and outages (refused connections, a silent server, a restart)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from plugins.rate_limiting.policies import Counter, Policy, PolicyUnavailable
from plugins.rate_limiting.policies import redis as redis_policy
from plugins.rate_limiting.policies.redis import RedisPolicy, aclose
from tests.plugins.rate_limiting.conftest import SHARED_REDIS
from tests.plugins.rate_limiting.policy_contract import SCENARIOS
from tests.plugins.rate_limiting.redis_server import PrivateRedis, delete_keys

LOGGER = "agora.plugins.rate_limiting"


def run(call: Awaitable[object]) -> object:
    async def closing() -> object:
        try:
            return await call
        finally:
            await aclose()  # this loop's connections; the next asyncio.run has its own loop

    return asyncio.run(closing())


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"agora:rl:test-{uuid.uuid4().hex}"
    yield name
    delete_keys(SHARED_REDIS, name + ":*")


@pytest.fixture
def quick_cooldown(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(redis_policy, "COOLDOWN", 0.2)
    return 0.2


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_contract(scenario: Callable[[Policy, str], Awaitable[None]], prefix: str) -> None:
    run(scenario(RedisPolicy(SHARED_REDIS, 2000), prefix))


def test_one_command_per_call_and_counters_expire(private_redis: PrivateRedis) -> None:
    policy = RedisPolicy(private_redis.url, 2000)
    counters = [Counter(f"k:{p}", f"k:{p}:prev", 1000, 0.5, 60 + i) for i, p in enumerate("smhd")]
    server = private_redis.client()

    async def calls() -> None:
        await policy.hit(counters)  # connects and loads the script
        before = server.info("commandstats")
        for _ in range(50):
            assert (await policy.hit(counters)).allowed
        after = server.info("commandstats")
        calls = {
            name.removeprefix("cmdstat_"): stats["calls"] - before.get(name, {"calls": 0})["calls"]
            for name, stats in after.items()
        }
        # 50 calls of 4 sliding periods: 50 EVALSHA, whose script reads 2 and increments 1 counter
        # per period (no EXPIRE: the counters exist); no other command but the test's own INFO.
        assert {name: n for name, n in calls.items() if n} == {
            "evalsha": 50,
            "get": 400,
            "incr": 200,
            "info": 1,
        }

    run(calls())
    assert server.get("k:s") == b"51"
    assert 0 < server.ttl("k:s") <= 60 and 60 < server.ttl("k:d") <= 63
    assert not server.exists("k:s:prev")  # a sliding window reads the previous counter, never writes it
    server.close()


def test_an_outage_is_refused_fast_logged_once_and_recovered_from(
    private_redis: PrivateRedis, quick_cooldown: float, caplog: pytest.LogCaptureFixture
) -> None:
    policy = RedisPolicy(private_redis.url, 2000)
    counter = [Counter(f"outage-{uuid.uuid4().hex}", None, 100, 0.0, 60)]
    caplog.set_level(logging.WARNING, logger=LOGGER)

    async def scenario() -> None:
        assert (await policy.hit(counter)).counts == ((1, 0),)
        private_redis.stop()
        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(PolicyUnavailable):
                await policy.hit(counter)
        assert time.monotonic() - started < 0.5  # no call waits for a timeout
        await asyncio.sleep(quick_cooldown + 0.05)
        with pytest.raises(PolicyUnavailable):  # the probe after the pause: still down
            await policy.hit(counter)
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1 and "unreachable" in warnings[0]
        assert private_redis.url.split("//")[1].split("/")[0] in warnings[0]  # host:port, never a URL
        private_redis.start()  # an empty Redis: no script, no counters
        with pytest.raises(PolicyUnavailable):  # still resting after the failed probe
            await policy.hit(counter)
        await asyncio.sleep(quick_cooldown + 0.05)
        assert (await policy.hit(counter)).counts == ((1, 0),)  # the script was loaded again
        back = caplog.records[-1].getMessage()
        assert "reachable again" in back and "22 call(s) were not counted" in back

    run(scenario())


def test_a_silent_server_costs_one_timeout_then_nothing(quick_cooldown: float) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections (the kernel does), never answers a command
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        policy = RedisPolicy(url, 500)
        counter = [Counter("silent", None, 10, 0.0, 60)]

        async def scenario() -> tuple[float, float]:
            started = time.monotonic()
            with pytest.raises(PolicyUnavailable):
                await policy.hit(counter)
            first = time.monotonic() - started
            started = time.monotonic()
            with pytest.raises(PolicyUnavailable):
                await policy.hit(counter)
            return first, time.monotonic() - started

        first, second = run(scenario())  # type: ignore[misc]
        assert 0.45 <= first < 0.95  # one timeout of 0.5 s, not retried (that would be 1 s)
        assert second < 0.2  # resting: Redis is not asked again during the cooldown
