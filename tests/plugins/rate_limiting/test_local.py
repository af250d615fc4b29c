"""The `local` policy: the policy contract in memory, and counters that expire and are swept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from plugins.rate_limiting.policies import Counter, Policy
from plugins.rate_limiting.policies.local import LocalPolicy
from tests.plugins.rate_limiting.policy_contract import SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_contract(scenario: Callable[[Policy, str], Awaitable[None]]) -> None:
    asyncio.run(scenario(LocalPolicy(), "t"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counters_expire_with_their_lifetime_and_are_swept() -> None:
    clock = Clock()
    policy = LocalPolicy(clock)
    counter = Counter("k", None, 2, 0.0, 60)

    async def calls() -> list[bool]:
        return [(await policy.hit([counter])).allowed for _ in range(3)]

    assert asyncio.run(calls()) == [True, True, False]
    clock.now += 59.9
    assert asyncio.run(calls()) == [False, False, False]
    clock.now += 0.2  # past its lifetime: a counter of the same name starts over
    assert asyncio.run(calls()) == [True, True, False]
    for i in range(50):
        asyncio.run(policy.hit([Counter(f"client-{i}", None, 5, 0.0, 1)]))
    assert len(policy) == 51
    clock.now += 61  # every counter has expired; the next call sweeps them out of memory
    asyncio.run(policy.hit([Counter("fresh", None, 5, 0.0, 1)]))
    assert len(policy) == 1


def test_a_sliding_window_reads_an_expired_previous_counter_as_zero() -> None:
    clock = Clock()
    policy = LocalPolicy(clock)
    for _ in range(3):
        asyncio.run(policy.hit([Counter("w1", None, 10, 0.0, 5)]))
    clock.now += 6
    hit = asyncio.run(policy.hit([Counter("w2", "w1", 3, 0.9, 5)]))
    assert hit.allowed and hit.counts == ((1, 0),)
