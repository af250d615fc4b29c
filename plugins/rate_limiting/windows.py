"""Counting windows and what a count means for the client.

Fixed windows are aligned on the UTC calendar (second, minute, hour, day, month), as Kong's are,
so every gateway computes the same window and counter key from its clock. The sliding window is
the two-counter estimate: the previous fixed window's count, weighted by the share of it the
sliding window still covers, plus the current count. One rule decides for both (`allows`), and the
Redis script applies the same arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["PERIODS", "Usage", "Window", "allows", "window"]

PERIODS = ("second", "minute", "hour", "day", "month")
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}
_LONGEST = {**_SECONDS, "month": 31 * 86_400}
# Counters outlive their window a little: gateways' and Redis's clocks are never exactly equal, and
# a counter that vanished early would hand out its window's allowance twice.
_TTL_SLACK = 5


@dataclass(frozen=True, slots=True)
class Window:
    period: str
    start: int  # Unix seconds: the current fixed window is [start, end)
    end: int
    previous_start: int

    def weight(self, now: float) -> float:
        """Share of the previous window the sliding window still covers (1 at start, 0 at end)."""
        return max(0.0, min(1.0, 1.0 - (now - self.start) / (self.end - self.start)))

    def ttl(self, sliding: bool) -> int:
        """How long a counter created in this window must live: a sliding window also reads the
        previous one, so its counter must survive the whole next window."""
        own = self.end - self.start
        return own + (_LONGEST[self.period] if sliding else 0) + _TTL_SLACK


def _month_start(year: int, month: int) -> int:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


_current: dict[str, Window] = {}  # per period, the window last asked for: the next call most likely shares it


def window(period: str, now: float) -> Window:
    """The fixed window of `period` that contains `now` (Unix seconds). Windows are immutable, so
    every call inside the last one asked for gets that one back instead of a new object."""
    last = _current.get(period)
    if last is not None and last.start <= now < last.end:
        return last
    found = _current[period] = _window(period, now)
    return found


def _window(period: str, now: float) -> Window:
    if period == "month":
        today = datetime.fromtimestamp(now, UTC)
        return Window(
            period,
            _month_start(today.year, today.month),
            _month_start(today.year, today.month + 1),
            _month_start(today.year, today.month - 1),
        )
    size = _SECONDS[period]
    start = int(now // size) * size
    return Window(period, start, start + size, start - size)


def allows(limit: int, current: int, previous: int, weight: float) -> bool:
    """Whether one more call fits. The Redis script evaluates the same expression in Lua."""
    return previous * weight + current + 1 <= limit


@dataclass(slots=True)
class Usage:
    """One period's count as the policy returned it (after this call, if it was allowed). Not frozen:
    a call makes one per period, a frozen dataclass sets its fields at twice the cost, and nothing
    changes one after it is made."""

    window: Window
    limit: int
    current: int
    previous: int  # the previous window's count (sliding only; 0 for fixed windows)
    weight: float  # 0 for fixed windows
    remaining: int = field(init=False)  # computed once: headers and the refusal all read it

    def __post_init__(self) -> None:
        self.remaining = max(0, math.floor(self.limit - (self.previous * self.weight + self.current)))

    def reset(self, now: float) -> int:
        """Seconds until the next call fits when none is left, else until the window ends (>= 1).

        Sliding: if the current count alone fills the limit, the wait is the rest of this window
        plus the time the next window needs for this count (its previous one then) to fade enough;
        otherwise it is the time for the previous window's share to fade enough.
        """
        if self.remaining > 0 or self.weight == 0:
            wait = self.end_in(now)
        else:
            length = self.window.end - self.window.start
            if self.current + 1 > self.limit:
                wait = self.end_in(now) + length * (1 - (self.limit - 1) / self.current)
            else:
                fade = length * (1 - (self.limit - 1 - self.current) / self.previous)
                wait = fade - (now - self.window.start)
        return max(1, math.ceil(wait))

    def end_in(self, now: float) -> float:
        return self.window.end - now
