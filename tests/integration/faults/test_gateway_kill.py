"""A gateway process killed with SIGKILL under load: the other one keeps serving without a single
failure, and the killed one's metering loses at most its last flush interval (records are batched
every `flush_interval`, 1 s) and duplicates nothing. The killed gateway is started again at the end,
from the database (and its on-disk snapshot), and serves at once."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from tests.integration.faults.load import load
from tests.integration.topology.stack import Platform, probe_spec, wait_until

pytestmark = pytest.mark.integration

FLUSH_INTERVAL = 1.0
MARGIN = 1.0  # the write in flight when the process died, and a loaded machine's scheduling
NO_LIMITS = {"rate-limiting": {"limit_by": "ip", "limits": {"day": 1_000_000}}}


def test_sigkill_of_one_gateway(platform: Platform) -> None:
    platform.publish(probe_spec("Crash", "1.0.0", ["/items", "/via-a", "/via-b"], NO_LIMITS), api="crash")
    a, b = platform.gateways["a"], platform.gateways["b"]
    wait_until(
        lambda: all(httpx.get(g.url + "/topo/crash/v1/items", timeout=2).status_code == 200 for g in (a, b)),
        10,
        what="crash API published",
    )
    # Each gateway gets its own operation, so the records tell which gateway metered them.
    targets: dict[str, tuple[str, dict[str, str]]] = {
        "a": (a.url + "/topo/crash/v1/via-a", {}),
        "b": (b.url + "/topo/crash/v1/via-b", {}),
    }
    with load(targets, threads_per_target=3) as seen:
        wait_until(lambda: len(seen.of("a")) >= 200, 30, what="load on a")
        os.kill(a.pid, signal.SIGKILL)
        killed = time.monotonic()
        a.process.wait(10)
        wait_until(lambda: len(seen.of("b", killed + 0.5)) >= 100, 30, what="b after the kill")
        end = time.monotonic()
    platform.gateways.pop("a")

    served_a = [o for o in seen.of("a") if o.status == 200]
    failed_a = [o for o in seen.of("a") if o.status != 200]
    assert all(o.at >= killed - 0.2 for o in failed_a), "a failed only once it was killed"
    assert set(seen.statuses("b", 0, end)) == {200}, "b never failed"
    assert len(seen.of("b", killed)) >= 100

    wait_until(lambda: platform.usage_count("crash", "get_via-b") >= len(seen.of("b")), 15, what="b metered")
    time.sleep(FLUSH_INTERVAL + 0.5)
    stored_a = platform.usage_count("crash", "get_via-a")
    stored_b = platform.usage_count("crash", "get_via-b")
    before_last_interval = sum(1 for o in served_a if o.at < killed - FLUSH_INTERVAL - MARGIN)
    print(
        f"\nSIGKILL: a answered {len(served_a)} (+{len(failed_a)} failed after the kill), "
        f"{stored_a} metered, "
        f"{len(served_a) - stored_a} lost (bound: the {len(served_a) - before_last_interval} of the last "
        f"interval); b answered {len(seen.of('b'))}, metered {stored_b}"
    )
    assert stored_b == len(seen.of("b"))
    assert before_last_interval <= stored_a <= len(served_a) + len(failed_a)
    assert len(set(platform.usage_ids("crash"))) == platform.usage_count("crash")

    restarted = platform.start_gateway("a")
    assert httpx.get(restarted.url + "/topo/crash/v1/items", timeout=5).status_code == 200
