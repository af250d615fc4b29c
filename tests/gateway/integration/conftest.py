"""Real processes on loopback: an upstream (aiohttp, `upstream.py`) and gateways (uvicorn, the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the helpers module beside this file

from gateway_harness import (  # noqa: E402  (after the sys.path line)
    REPO,
    UPSTREAM,
    GatewayProcess,
    StartGateway,
    free_port,
    serving,
    stop,
    wait_for,
    write_snapshot,
)


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving([sys.executable, str(UPSTREAM), str(port)], url + "/stats"):
        yield url


@pytest.fixture(scope="module")
def start_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartGateway]:
    """Starts `python -m gateway` (the CLI) on a free port; stopped at the end of the test module."""
    tmp_path = tmp_path_factory.mktemp("gateway")
    started: list[GatewayProcess] = []

    def start(
        document: dict[str, Any] | None = None,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        snapshot_file: Path | None = None,
    ) -> GatewayProcess:
        port = free_port()
        args = [sys.executable, "-m", "gateway", "--port", str(port), "--workers", str(workers)]
        path = snapshot_file or tmp_path / f"snapshot-{port}.json"
        if document is not None:
            write_snapshot(path, document)
        if snapshot_file is None or document is not None:
            args += ["--snapshot", str(path)]
        environment = {
            **os.environ,
            "AGORA_GATEWAY_POLL_INTERVAL": "0.2",
            # The small plugins of these tests live beside this file.
            "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO), os.environ.get("PYTHONPATH", "")]),
            "AGORA_GATEWAY_PLUGIN_PACKAGES": "plugins,gateway_test_plugins",
            # Active probes would open the circuits of the upstreams these tests leave down on purpose
            # (502 tests); tests/integration/ops turns them on.
            "AGORA_GATEWAY_HEALTH_CHECKS": "off",
            **(env or {}),
        }
        process = subprocess.Popen(args, cwd=tmp_path, env=environment)
        gateway = GatewayProcess(f"http://127.0.0.1:{port}", process, path, environment)
        started.append(gateway)
        wait_for(gateway.url + "/healthz", process)
        return gateway

    yield start
    for gateway in started:
        stop(gateway.process)
