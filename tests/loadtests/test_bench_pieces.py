"""The bench's pieces that need no server: wrk's report parsed, ratios and goals, the generated section
of docs/benchmarks.md, py-spy's collapsed stacks summed. No timing is asserted anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtests import wrk
from loadtests.bench import round_order
from loadtests.breakdown import summarize as summarize_breakdown
from loadtests.profile import area_of, parse_collapsed
from loadtests.report import Row, Sample, goals, markdown, ratios, replace_section, summarize

REPORT = """\
Running 5s test @ http://127.0.0.1:8000/bench/hello/v1/hello
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.12ms    1.23ms  40.00ms   90.00%
    Req/Sec     3.20k   100.00     3.40k    80.00%
  Latency Distribution
     50%  412.00us
     75%    1.10ms
     90%    2.50ms
     99%    1.20s
  16023 requests in 5.00s, 2.01MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   3204.55
Transfer/sec:    411.99KB
"""


def test_wrk_report_is_parsed_with_its_units() -> None:
    result = wrk.parse(REPORT)
    assert result.requests == 16023
    assert result.seconds == pytest.approx(5.0)
    assert result.rps == pytest.approx(3204.55)
    assert result.p50_ms == pytest.approx(0.412)
    assert result.p99_ms == pytest.approx(1200.0)
    assert (result.non_2xx, result.socket_errors, result.failed) == (7, 3, 10)


def test_a_clean_report_has_no_failures() -> None:
    clean = "\n".join(
        line for line in REPORT.splitlines() if not line.lstrip().startswith(("Socket", "Non-2xx"))
    )
    assert wrk.parse(clean).failed == 0


def test_a_report_without_latency_distribution_is_refused() -> None:
    with pytest.raises(ValueError, match="wrk --latency"):
        wrk.parse("unable to connect to 127.0.0.1:9 Connection refused\n")


def _sample(rps: float, p50: float, seconds: float = 5.0) -> Sample:
    result = wrk.WrkResult(int(rps * seconds), seconds, rps, p50, p50 * 3, cpu_seconds=0.5)
    return Sample(result, server_cpu=4.5, load_cpu=1.0)


def _rows() -> dict[int, Row]:
    figures = {1: (40_000, 0.05), 2: (25_000, 0.10), 3: (3_000, 0.50), 4: (2_500, 0.70), 5: (2_200, 0.80)}
    return {
        n: summarize(n, f"target {n}", [_sample(rps, p50), _sample(rps * 1.1, p50)], [_sample(1000, p50)])
        for n, (rps, p50) in figures.items()
    }


def test_ratios_and_goals_come_from_the_medians() -> None:
    rows = _rows()
    assert rows[2].rps == pytest.approx(26_250)  # the median of two runs: 25,000 and 27,500
    assert rows[2].server_cpu == pytest.approx(0.9)
    assert rows[2].cpu_us == pytest.approx((4.5e6 / 125_000 + 4.5e6 / 137_500) / 2)  # 4.5 s of CPU a run
    found = ratios(rows)
    assert found["3/2"] == pytest.approx(3_000 / 25_000)
    assert found["4/3"] == pytest.approx(2_500 / 3_000)
    assert found["5/4"] == pytest.approx(2_200 / 2_500)
    assert found["added p50 ms"] == pytest.approx(0.60)  # over nginx proxy_pass (2), not the upstream
    assert found["4 p99/p50"] == pytest.approx(3.0)
    verdicts = {goal.text.split(":")[0]: goal.met for goal in goals(found)}
    assert verdicts == {
        "bare gateway (3) at >= 35% of nginx proxy_pass (2)": False,
        "full plugin chain (4) at >= 25% of nginx proxy_pass (2)": False,
        "redis policy (5) at >= 75% of the local policy (4)": True,
        "added latency at 1 connection": False,
        "full chain's p99 at -c32 <= 2.5 x its p50": False,
    }


def test_a_ratio_measured_together_too_must_meet_its_goal_both_ways() -> None:
    found = {"3/2": 0.40, "3/2 together": 0.30, "5/4": 0.9, "5/4 together": 0.95}
    by_key = {goal.text[:12]: goal for goal in goals(found)}
    bare, redis = by_key["bare gateway"], by_key["redis policy"]
    assert not bare.met and bare.value == "40.0% (together: 30.0%)"
    assert redis.met and redis.value == "90.0% (together: 95.0%)"


def test_the_generated_section_replaces_only_its_own(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nProse stays.\n")
    rows = _rows()
    text = markdown(list(rows.values()), ratios(rows), [], {"cores": "2"}, {
        "when": "today", "duration": "1 s", "load_before": "0.1", "load_after": "0.2", "scaling": "-",
    })  # fmt: skip
    replace_section(doc, "bench", text)
    replace_section(doc, "bench", text.replace("today", "tomorrow"))
    written = doc.read_text()
    assert written.startswith("# Benchmarks\n\nProse stays.\n")
    assert written.count("<!-- bench:start -->") == 1 and "tomorrow" in written and "today" not in written
    assert "| 4. target 4 | 2,625 |" in written and f"| {rows[4].cpu_us:.0f} |" in written


def test_collapsed_stacks_are_summed_per_function() -> None:
    outer = "run (asyncio/runners.py:86);__call__ (gateway/app.py:86)"
    profile = parse_collapsed(
        [
            f"{outer};access (plugins/key_auth/handler.py:85) 3",
            f"{outer};send_encoded (gateway/engine/upstream.py:155) 2",
            "garbage line",
        ]
    )
    assert profile.samples == 5
    assert profile.self_time["key_auth/handler.py:access"] == 3
    assert profile.total_time["gateway/app.py:__call__"] == 5
    assert profile.areas["plugins"] == 3 and profile.areas["engine: upstream client"] == 2
    assert area_of("gateway/engine/server.py") == "engine: HTTP server"
    assert area_of("gateway/pipeline/route.py") == "gateway pipeline"


def test_ratios_pair_the_targets_of_each_round() -> None:
    rows = _rows()
    # A machine slowing down over the run: each round's pair is compared with itself.
    rounds = {3: [3_000.0, 2_000.0, 1_500.0], 4: [2_700.0, 1_800.0, 1_350.0], 2: [25_000.0, 25_000.0]}
    found = ratios(rows, rounds)
    assert found["4/3"] == pytest.approx(0.9)
    assert found["3/2"] == pytest.approx(rows[3].rps / rows[2].rps)  # unequal rounds: the medians


def test_rounds_go_forward_then_backward() -> None:
    targets: list[Any] = [1, 2, 3, 4, 5]
    assert round_order(targets, 0) == [1, 2, 3, 4, 5] and round_order(targets, 1) == [5, 4, 3, 2, 1]
    assert round_order(targets, 2) == [1, 2, 3, 4, 5] and targets == [1, 2, 3, 4, 5]


def test_the_breakdown_compares_each_step_with_the_bare_gateway_of_the_same_round() -> None:
    # The machine slows by a third in round 2: every step slows with it, and the ratios hold.
    costs = {
        "no plugins": [400.0, 600.0, 420.0],
        "+ key-auth": [440.0, 660.0, 462.0],
        "+ usage-metering": [500.0, 750.0, 525.0],
    }
    bare, key, metering = summarize_breakdown(costs)
    assert bare.relative == 1.0 and bare.us_per_request == 420.0
    assert key.relative == pytest.approx(1.1) and key.added_us == pytest.approx(42.0)
    assert metering.relative == pytest.approx(1.25) and metering.added_us == pytest.approx(63.0)
    assert metering.throughput_share == pytest.approx(0.8)
