"""What every policy must do, run against each backend by test_local.py and test_redis.py: the same
calls must get the same answers whether counters live in memory or in Redis."""

from __future__ import annotations

import asyncio

from plugins.rate_limiting.policies import Counter, Hit, Policy

__all__ = ["SCENARIOS"]


def fixed(key: str, limit: int, ttl: int = 60) -> Counter:
    return Counter(key, None, limit, 0.0, ttl)


async def counts_then_refuses_without_counting(policy: Policy, prefix: str) -> None:
    counter = fixed(f"{prefix}:a", 3)
    hits = [await policy.hit([counter]) for _ in range(5)]
    assert [h.allowed for h in hits] == [True, True, True, False, False]
    assert [h.counts for h in hits] == [((1, 0),), ((2, 0),), ((3, 0),), ((3, 0),), ((3, 0),)]


async def counts_every_period_or_none(policy: Policy, prefix: str) -> None:
    second, minute = fixed(f"{prefix}:s", 2), fixed(f"{prefix}:m", 100)
    hits = [await policy.hit([second, minute]) for _ in range(4)]
    assert [h.allowed for h in hits] == [True, True, False, False]
    assert hits[-1].counts == ((2, 0), (2, 0))  # the minute counter did not count the refusals
    other_second = fixed(f"{prefix}:s2", 2)  # the next second: the minute keeps counting
    assert (await policy.hit([other_second, minute])) == Hit(True, ((1, 0), (3, 0)))


async def sliding_adds_the_weighted_previous_window(policy: Policy, prefix: str) -> None:
    previous = fixed(f"{prefix}:w1", 100)
    for _ in range(10):
        await policy.hit([previous])
    # Half of the previous window (10 calls) is still inside: 5 count, so 5 of a limit of 10 are left.
    sliding = Counter(f"{prefix}:w2", f"{prefix}:w1", 10, 0.5, 120)
    hits = [await policy.hit([sliding]) for _ in range(6)]
    assert [h.allowed for h in hits] == [True] * 5 + [False]
    assert hits[0].counts == ((1, 10),) and hits[-1].counts == ((5, 10),)


async def concurrent_calls_never_exceed_the_limit(policy: Policy, prefix: str) -> None:
    counter = fixed(f"{prefix}:c", 37)
    hits = await asyncio.gather(*(policy.hit([counter]) for _ in range(100)))
    assert sum(h.allowed for h in hits) == 37
    assert sorted(h.counts[0][0] for h in hits if h.allowed) == list(range(1, 38))


SCENARIOS = [
    counts_then_refuses_without_counting,
    counts_every_period_or_none,
    sliding_adds_the_weighted_previous_window,
    concurrent_calls_never_exceed_the_limit,
]
