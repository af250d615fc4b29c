"""Windows (calendar-aligned, UTC), the sliding estimate, and what the headers say: remaining calls and
the wait until the next call fits, checked against the decision rule itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugins.rate_limiting.windows import Usage, allows, window


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_fixed_windows_are_aligned_on_the_utc_calendar() -> None:
    now = ts("2026-03-15T10:42:17.250")
    minute = window("minute", now)
    assert (minute.start, minute.end, minute.previous_start) == (
        ts("2026-03-15T10:42:00"),
        ts("2026-03-15T10:43:00"),
        ts("2026-03-15T10:41:00"),
    )
    assert window("second", now).start == ts("2026-03-15T10:42:17")
    assert window("hour", now).start == ts("2026-03-15T10:00:00")
    assert window("day", now).end == ts("2026-03-16T00:00:00")
    month = window("month", now)
    assert (month.start, month.end, month.previous_start) == (
        ts("2026-03-01T00:00:00"),
        ts("2026-04-01T00:00:00"),
        ts("2026-02-01T00:00:00"),
    )


@pytest.mark.parametrize(
    ("now", "start", "end", "previous"),
    [
        ("2026-12-31T23:59:59", "2026-12-01", "2027-01-01", "2026-11-01"),
        ("2027-01-01T00:00:00", "2027-01-01", "2027-02-01", "2026-12-01"),
        ("2028-02-29T12:00:00", "2028-02-01", "2028-03-01", "2028-01-01"),
    ],
)
def test_months_across_years_and_leap_days(now: str, start: str, end: str, previous: str) -> None:
    month = window("month", ts(now))
    assert (month.start, month.end, month.previous_start) == (ts(start), ts(end), ts(previous))


def test_sliding_weight_and_counter_lifetimes() -> None:
    minute = window("minute", ts("2026-03-15T10:42:15"))
    assert minute.weight(ts("2026-03-15T10:42:15")) == 0.75  # a quarter of the window has passed
    assert minute.weight(minute.start) == 1.0
    assert minute.ttl(sliding=False) == 60 + 5
    assert minute.ttl(sliding=True) == 120 + 5  # alive through the next window, which reads it
    february = window("month", ts("2026-02-10T00:00:00"))
    assert february.ttl(sliding=True) == (28 + 31) * 86_400 + 5  # the next month may be longer


def test_remaining_counts_down_and_the_fixed_reset_is_the_window_end() -> None:
    now = ts("2026-03-15T10:42:15.5")
    minute = window("minute", now)
    assert Usage(minute, 10, 3, 0, 0.0).remaining == 7
    full = Usage(minute, 10, 10, 0, 0.0)
    assert full.remaining == 0
    assert full.reset(now) == 45  # 44.5 s rounded up: the client never retries too early
    assert Usage(minute, 10, 12, 0, 0.0).remaining == 0  # a lowered limit never goes negative


def _first_allowed(usage: Usage, now: float) -> float:
    """By brute force: the first instant, in 0.25 s steps, at which one more call fits."""
    minute = usage.window
    t = now
    while True:
        t += 0.25
        if t < minute.end:
            current, previous, weight = usage.current, usage.previous, minute.weight(t)
        else:  # the next window: this window's count becomes the previous one
            following = window("minute", t)
            current, previous, weight = 0, usage.current, following.weight(t)
        if allows(usage.limit, current, previous, weight):
            return t


@pytest.mark.parametrize(
    ("current", "previous", "offset"),
    [(4, 10, 15.0), (10, 3, 20.0), (10, 0, 59.0), (1, 30, 0.5)],
)
def test_sliding_reset_is_the_first_instant_a_call_fits(current: int, previous: int, offset: float) -> None:
    minute = window("minute", ts("2026-03-15T10:42:00"))
    now = minute.start + offset
    usage = Usage(minute, 10, current, previous, minute.weight(now))
    assert usage.remaining == 0
    expected = _first_allowed(usage, now) - now
    assert expected - 1 <= usage.reset(now) <= expected + 1  # whole seconds, rounded up


def test_sliding_estimate_counts_the_fading_previous_window() -> None:
    minute = window("minute", ts("2026-03-15T10:42:00"))
    now = minute.start + 30  # half the previous window is still inside the last minute
    usage = Usage(minute, 10, 2, 10, minute.weight(now))
    assert usage.remaining == 3  # 10 - (10 * 0.5 + 2)
    assert allows(10, 2, 10, 0.5) and not allows(10, 5, 10, 0.5)


@pytest.mark.parametrize(
    ("now", "counts"),
    [
        (1_700_000_000.25, ((1, 0), (1, 0), (1, 0))),  # a fresh caller: the day is the tightest on a tie
        (1_700_000_059.9, ((3, 0), (57, 0), (900, 0))),  # the minute has fewest left
        (1_700_003_599.0, ((10, 0), (60, 0), (95, 0))),  # the second is full: 0 left, reset 1 s
    ],
)
def test_fixed_window_headers_equal_the_general_ones(now: float, counts: tuple[tuple[int, int], ...]) -> None:
    """The allowed fixed-window call's fast path gives exactly what the general path gives."""
    from plugins.rate_limiting.handler import _headers, _rendering, as_fields, fixed_lines

    limits = {"second": 10, "minute": 60, "day": 1000}
    windows = [window(period, now) for period in limits]
    paired = zip(windows, counts, strict=True)
    usages = [Usage(w, limits[w.period], current, 0, 0.0) for w, (current, _) in paired]
    lines = fixed_lines(_rendering(windows, limits), counts, now)  # as _counters prepares it
    assert as_fields(lines) == _headers(usages, now)
    # the lines the fast path sends are those fields as the PDK's set_headers encodes them
    assert lines == [(k.lower().encode(), str(v).encode()) for k, v in _headers(usages, now).items()]
