"""What a bench ran on: cores, CPU model, kernel, versions of the servers and libraries, load average."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["describe", "load_average", "pinning"]

# Distribution name -> how the report names it.
PACKAGES = {"uvicorn": "uvicorn", "uvloop": "uvloop", "httptools": "httptools", "aiohttp": "aiohttp",
            "starlette": "starlette", "redis": "redis-py", "sqlalchemy": "sqlalchemy"}  # fmt: skip


def _first_line(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "absent"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _cpu_model() -> str:
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1).strip() if found else platform.processor() or "unknown"


def load_average() -> float:
    return os.getloadavg()[0]


def pinning() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(server cores, load cores): the first core for the servers, the others for the load generator
    and the upstream; nothing pinned on a single core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return (), ()
    return (cores[0],), tuple(cores[1:])


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def _git() -> str:
    root = Path(__file__).resolve().parents[1]
    head = _first_line(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    diff = ["git", "-C", str(root), "diff", "--quiet", "HEAD"]
    dirty = subprocess.run(diff, capture_output=True).returncode
    return head + (" (with uncommitted changes)" if dirty else "")


def describe() -> dict[str, str]:
    return {
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "cpu": _cpu_model(),
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nginx": _first_line(["nginx", "-v"]).removeprefix("nginx version: "),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0],
        "redis-server": _first_line(["redis-server", "--version"]).split(" sha=")[0].split("v=")[-1],
        **{label: _package(name) for name, label in PACKAGES.items()},
        "commit": _git(),
    }
