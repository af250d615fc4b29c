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


def test_the_control_plane_scenario_parses_and_is_bounded() -> None:
    """Issue 14, item 9: the admin API and the portal loaded while a large spec is published. Only
    listed here (locust loads it in its own process); the load is `python -m loadtests.controlplane`."""
    from loadtests.controlplane import seconds

    locust = Path(sys.executable).with_name("locust")
    done = subprocess.run(
        [str(locust), "-f", str(REPO / "loadtests" / "controlplane_locustfile.py"), "--list"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = {line.strip() for line in done.stdout.splitlines() if line.startswith("    ")}
    assert listed == {"PortalReader", "AdminReader", "Publisher"}
    assert (seconds("60s"), seconds("2m"), seconds("90")) == (60, 120, 90)
    help_text = subprocess.run(
        [sys.executable, "-m", "loadtests.controlplane", "--help"], capture_output=True, text=True,
        timeout=60, cwd=REPO,
    ).stdout  # fmt: skip
    assert "--run-time" in help_text and "--operations" in help_text


def test_the_control_plane_scenario_publishes_a_valid_spec() -> None:
    from loadtests.large_spec import large_spec
    from registry.specs import load_spec, validate_spec

    document = load_spec(large_spec(30))
    assert validate_spec(document) == []
    assert sum(len(item) for item in document["paths"].values()) == 30
