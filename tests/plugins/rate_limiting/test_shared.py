"""The node's shared counter table: the policy contract through it, expiry and reuse of slots, a full
table that evicts instead of failing, and real worker processes that together allow exactly the limit."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from collections.abc import Awaitable, Callable, Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from agora.errors import InvalidInput
from plugins.rate_limiting.policies import Counter, Policy
from plugins.rate_limiting.policies.local import LocalPolicy
from plugins.rate_limiting.policies.shared import ENV, PROBES, SharedCounters
from tests.plugins.rate_limiting.policy_contract import SCENARIOS


@pytest.fixture
def table(tmp_path: Path) -> Iterator[SharedCounters]:
    created = SharedCounters.create(slots=64, directory=tmp_path)
    try:
        yield created
    finally:
        created.unlink()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_contract(scenario: Callable[[Policy, str], Awaitable[None]], table: SharedCounters) -> None:
    asyncio.run(scenario(LocalPolicy(shared=table), "t"))


def test_two_policies_on_one_table_count_together(table: SharedCounters) -> None:
    first, second = LocalPolicy(shared=table), LocalPolicy(shared=SharedCounters(table.path))
    counter = Counter("k", None, 3, 0.0, 60)
    answers = [p.check([counter]).allowed for p in (first, second, first, second, first)]
    assert answers == [True, True, True, False, False]
    assert second.check([counter]).counts == ((3, 0),)


def test_a_window_expires_with_its_lifetime_and_its_slot_is_reused(table: SharedCounters) -> None:
    clock = Clock()
    policy = LocalPolicy(clock, shared=table)
    counter = Counter("k", None, 2, 0.0, 60)
    assert [policy.check([counter]).allowed for _ in range(3)] == [True, True, False]
    clock.now += 59.9
    assert not policy.check([counter]).allowed
    clock.now += 0.2  # past its lifetime: the same key starts over, in the same slot
    assert [policy.check([counter]).allowed for _ in range(3)] == [True, True, False]
    assert table.live(clock.now) == 1
    for i in range(40):
        policy.check([Counter(f"client-{i}", None, 5, 0.0, 1)])
    assert table.live(clock.now) == 41
    clock.now += 61  # every window has expired: new keys take their slots, the table never fills
    for i in range(40):
        assert policy.check([Counter(f"later-{i}", None, 5, 0.0, 1)]).counts == ((1, 0),)
    assert table.live(clock.now) == 40


def test_a_full_table_evicts_the_window_closest_to_expiry_and_never_fails(tmp_path: Path) -> None:
    small = SharedCounters.create(slots=PROBES, directory=tmp_path)  # one probe run: the whole table
    clock = Clock()
    policy = LocalPolicy(clock, shared=small)
    for i in range(PROBES):  # every slot live; c0 expires first, then c1...
        policy.check([Counter(f"c{i}", None, 5, 0.0, 100 + i)])
    assert small.live(clock.now) == PROBES
    assert policy.check([Counter("new", None, 5, 0.0, 1000)]).counts == ((1, 0),)
    assert small.live(clock.now) == PROBES
    assert policy.check([Counter("c1", None, 5, 0.0, 101)]).counts == ((2, 0),)  # kept
    assert policy.check([Counter("c0", None, 5, 0.0, 100)]).counts == ((1, 0),)  # evicted: over
    for i in range(200):  # far more windows than slots: each new one counts, nothing raises
        hit = policy.check([Counter(f"more-{i}", None, 5, 0.0, 1000 + i)])
        assert hit.allowed and hit.counts == ((1, 0),)
    assert policy.check([Counter("more-199", None, 5, 0.0, 1199)]).counts == ((2, 0),)
    small.unlink()


def test_a_sliding_window_reads_an_expired_previous_window_as_zero(table: SharedCounters) -> None:
    clock = Clock()
    policy = LocalPolicy(clock, shared=table)
    for _ in range(3):
        policy.check([Counter("w1", None, 10, 0.0, 5)])
    clock.now += 6
    hit = policy.check([Counter("w2", "w1", 3, 0.9, 5)])
    assert hit.allowed and hit.counts == ((1, 0),)


def test_a_file_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_bytes(b"x" * 100)
    with pytest.raises(InvalidInput, match="not a counter table"):
        SharedCounters(other)
    with pytest.raises(InvalidInput, match="cannot open"):
        SharedCounters(tmp_path / "missing")
    with pytest.raises(InvalidInput, match="power of two"):
        SharedCounters.create(slots=PROBES + 1, directory=tmp_path)


def _worker_checks(barrier: Barrier, calls: int, results: multiprocessing.Queue[int]) -> None:
    """A fresh worker process: its local policy finds the table in the environment, as a gateway
    worker's does."""
    from plugins.rate_limiting.policies.local import LOCAL

    counter = Counter("agora:rl:svc:consumer:c1:minute:1700000040", None, 10, 0.0, 65)
    barrier.wait()
    results.put(sum(LOCAL.check([counter]).allowed for _ in range(calls)))


def test_two_worker_processes_together_allow_exactly_the_limit(
    table: SharedCounters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(table.path))
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=_worker_checks, args=(barrier, 10, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    allowed = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    assert sum(allowed) == 10  # 20 checks, a limit of 10 per minute: 10 allowed on the node


def test_the_same_calls_get_the_same_answers_as_in_process(tmp_path: Path) -> None:
    """The plugin's answers and headers are made from the policy's `Hit` alone: equal hits, equal
    answers. 3,000 calls of 4 clients, fixed and sliding windows of two periods, the clock moving
    (in a table with room: a full one evicts, test_a_full_table_evicts...)."""
    table = SharedCounters.create(slots=4096, directory=tmp_path)
    rng = random.Random(12)
    clock = Clock()
    in_process, shared = LocalPolicy(clock), LocalPolicy(clock, shared=table)
    refused = 0
    for call in range(3000):
        clock.now += rng.choice((0.0, 0.01, 0.02, 0.3))
        client, sliding = rng.randrange(4), rng.random() < 0.5
        counters = []
        for period, size, limit in (("second", 1, 3), ("minute", 60, 20)):
            start = int(clock.now // size) * size
            key = f"c{client}:{sliding}:{period}:{start}"
            previous = f"c{client}:{sliding}:{period}:{start - size}" if sliding else None
            weight = 1 - (clock.now - start) / size if sliding else 0.0
            counters.append(Counter(key, previous, limit, weight, size * (2 if sliding else 1) + 5))
        hit = shared.check(counters)
        assert hit == in_process.check(counters), call
        refused += not hit.allowed
    assert 300 < refused < 2700  # both answers were compared often
    table.unlink()
