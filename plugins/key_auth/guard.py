"""Key brute force, slowed: invalid keys are counted per client address in fixed windows of
`failure_window` seconds, in the counters rate-limiting uses (Redis when the gateway has
AGORA_REDIS_URL, shared by every gateway; else this process's memory). The address that sends more than
`failure_limit` invalid keys in a window has every key refused with 429 until the window ends, the right
one included, so guessing on cannot tell a hit from a miss.

The refusal is decided when a failure does not fit in the shared counter, and remembered by each worker
that sees it: a valid key's request costs no counter round trip, and an attacker spread over several
gateways gets at most `failure_limit` plus one guess per gateway worker per window. Each block is
logged once per worker with the address and the key's public prefix, never the key. When the counters
cannot be reached, failures go uncounted (and rate-limiting logs the outage): keys are still checked.

The defaults (100 per 300 s) leave room for many callers behind one address (a NAT, a proxy whose
forwarded addresses the gateway does not trust): the keys are 256-bit random, so the guard is about
refusing a flood and naming its source, not about the odds of a guess.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

from plugins.rate_limiting.policies import Counter, Policy, PolicyUnavailable, select
from registry.secrets import prefix_of

__all__ = ["ERR_TOO_MANY_FAILURES", "Guard", "Verdict", "any_blocked"]

log = logging.getLogger("agora.plugins.key_auth")

ERR_TOO_MANY_FAILURES = "Too many invalid API keys from this address; try again later"
_KEY_PREFIX = "agora:ka:fail"
_MAX_BLOCKED = 100_000  # addresses remembered per worker; the oldest blocks are forgotten first


@dataclass(frozen=True, slots=True)
class Verdict:
    retry_after: int  # seconds until the window ends


@dataclass
class _Blocked:
    until: dict[str, float] = field(default_factory=dict)

    def get(self, ip: str, now: float) -> float | None:
        until = self.until.get(ip)
        if until is None:
            return None
        if until <= now:
            del self.until[ip]
            return None
        return until

    def add(self, ip: str, until: float, now: float) -> None:
        if len(self.until) >= _MAX_BLOCKED:
            for old in [k for k, v in self.until.items() if v <= now] or list(self.until)[
                : _MAX_BLOCKED // 10
            ]:
                del self.until[old]
        self.until[ip] = until


# One per process, shared by every plugin instance: a hot reload must not lift a block.
_BLOCKED = _Blocked()


def any_blocked() -> bool:
    """Whether this process refuses any address now (rarely: a flood is in progress)."""
    return bool(_BLOCKED.until)


class Guard:
    def __init__(self, failure_limit: int, failure_window: int) -> None:
        self.limit = failure_limit
        self.window = failure_window
        self._policy: Policy | None = None

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def blocked(self, ip: str) -> Verdict | None:
        """Whether this address is refused now (checked before any key is)."""
        if not self.enabled or not _BLOCKED.until:  # nobody blocked: the usual case, no clock read
            return None
        now = time.time()
        until = _BLOCKED.get(ip, now)
        return None if until is None else Verdict(max(1, math.ceil(until - now)))

    async def failed(self, ip: str, key: str | None, service: str) -> Verdict | None:
        """Counts one invalid key; returns the refusal when this one no longer fits the window."""
        if not self.enabled:
            return None
        if self._policy is None:
            self._policy = select(None, None, 2000)
        now = time.time()
        start = int(now // self.window) * self.window
        counter = Counter(f"{_KEY_PREFIX}:{ip}:{start}", None, self.limit, 0.0, self.window + 5)
        try:
            hit = await self._policy.hit([counter])
        except PolicyUnavailable:
            return None
        if hit.allowed:
            return None
        until = start + self.window
        _BLOCKED.add(ip, until, now)
        shown = (prefix_of(key) or "(not an Agora key)") if key else "(none)"
        log.warning(
            "key-auth: more than %d invalid API keys from %s within %d s (service %s, last key prefix %s); "
            "refusing its keys for %d s",
            self.limit, ip, self.window, service, shown, math.ceil(until - now),
        )  # fmt: skip
        return Verdict(max(1, math.ceil(until - now)))
