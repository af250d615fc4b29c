"""Fixed log-spaced latency buckets: merged histograms give the same percentiles as one histogram, and
every reported percentile is within the documented 4.5% of the exact one."""

from __future__ import annotations

import math
import random

import pytest

from registry.analytics import histogram


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_percentiles_are_within_the_bucket_error(q: float) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(3, 1.2) for _ in range(5000)]  # ~20 ms median, a long tail
    hist: dict[str, int] = {}
    for v in values:
        histogram.add(hist, v)
    got = histogram.percentile(hist, q, ceiling=max(values))
    assert got is not None
    assert abs(got - exact(values, q)) / exact(values, q) < 0.045


def test_merging_parts_equals_the_whole() -> None:
    rng = random.Random(3)
    parts: list[dict[str, int]] = [{} for _ in range(12)]
    whole: dict[str, int] = {}
    for i in range(3000):
        v = rng.expovariate(1 / 40)
        histogram.add(parts[i % 12], v)
        histogram.add(whole, v)
    assert histogram.merge(parts) == whole
    for q in (0.5, 0.95, 0.99):
        assert histogram.percentile(histogram.merge(parts), q) == histogram.percentile(whole, q)


def test_edges() -> None:
    assert histogram.percentile({}, 0.5) is None
    assert histogram.bucket_of(0.0) == 0 and histogram.bucket_of(10**9) == histogram.TOP
    # one observation: its bucket's middle, capped by the largest latency seen
    hist: dict[str, int] = {}
    histogram.add(hist, 250.0)
    assert histogram.percentile(hist, 0.99, ceiling=250.0) == pytest.approx(250.0, rel=0.045)
    assert histogram.percentile(hist, 0.5, ceiling=240.0) == 240.0
