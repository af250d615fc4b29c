"""Where counters live, behind one atomic operation: `hit(counters)` checks every period's counter
and, only if all of them have room, counts the call in each, as one step.

    local   this process's memory, or the node's table shared by its workers (shared.py)
    redis   one Redis shared by every gateway (one round trip per call: a Lua script)

Counting only allowed calls (as Kong does) means a client that keeps calling while refused does
not push its own reset further away. A backend that cannot answer raises `PolicyUnavailable`; the
plugin's `fault_tolerant` decides what the client gets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from agora.errors import InvalidInput, Unavailable

__all__ = ["Counter", "Hit", "Policy", "PolicyUnavailable", "select"]


class Counter(NamedTuple):
    key: str  # the current window's counter
    previous_key: str | None  # the previous window's counter, read by a sliding window only
    limit: int
    weight: float  # share of the previous window still inside the sliding window; 0 when fixed
    ttl: int  # seconds, set when the counter is created


class Hit(NamedTuple):
    allowed: bool
    counts: tuple[tuple[int, int], ...]  # per counter (current, previous), after this call if allowed


class Policy(Protocol):
    async def hit(self, counters: Sequence[Counter]) -> Hit: ...


class PolicyUnavailable(Unavailable):
    slug, title = "rate-limiting-unavailable", "Rate limiting unavailable"


def select(policy: str | None, redis_url: str | None, redis_timeout_ms: int) -> Policy:
    """`policy` unset: Redis when the gateway has one (the plugin's `redis_url`, else the process's
    AGORA_REDIS_URL, which agora.settings documents), else local."""
    from .local import LOCAL  # the backends import this module's types: imported on use

    url = redis_url or os.environ.get("AGORA_REDIS_URL") or None
    if policy == "local" or (policy is None and url is None):
        return LOCAL
    if url is None:
        raise InvalidInput("rate-limiting: policy 'redis' needs redis_url or AGORA_REDIS_URL")
    from .redis import RedisPolicy  # a local-only gateway never loads redis-py

    return RedisPolicy(url, redis_timeout_ms)
