"""The locust file loads and defines the load test's callers. Importing locust patches the standard
library with gevent, so it is loaded by locust itself in another process, never in the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USERS = {"OpenDataUser", "DeveloperUser", "SlowUser", "InvalidKeyUser", "OverLimitUser"}


def test_the_locustfile_defines_every_kind_of_caller() -> None:
    locust = Path(sys.executable).with_name("locust")
    done = subprocess.run(
        [str(locust), "-f", str(REPO / "loadtests" / "locustfile.py"), "--list"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = {line.strip() for line in done.stdout.splitlines() if line.startswith("    ")}
    assert listed == USERS
