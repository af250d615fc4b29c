"""`python -m examples.upstreams.serve`: `build_app`, and the real process on loopback."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from examples.catalog import EXAMPLES
from examples.upstreams.serve import build_app

REPO = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
SERVE = [sys.executable, "-m", "examples.upstreams.serve"]
Served = tuple[subprocess.Popen[bytes], int, Path]  # the process, its port offset, its log


def test_build_app_knows_every_example() -> None:
    for example in EXAMPLES:
        assert any(getattr(route, "path", None) == "/health" for route in build_app(example.api_slug).routes)
    with pytest.raises(KeyError):
        build_app("parking")


def _free_port_offset() -> int:
    """An offset at which all example ports are free, so a running `make run` is left alone."""
    for _ in range(50):
        offset = random.randrange(1_000, 30_000)
        sockets = []
        try:
            for example in EXAMPLES:
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", example.port + offset))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return offset
    raise RuntimeError("no free port offset found")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    offset, log = _free_port_offset(), tmp_path / "serve.log"
    # The log goes to a file, not a pipe nobody reads, which could fill up and block the server.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SERVE, "--port-offset", str(offset), "--log-level", "warning"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, offset, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(client: httpx.Client, url: str, served: Served) -> httpx.Response:
    process, _, log = served
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, log.read_text()
        try:
            return client.get(url, headers={"X-Request-ID": "it-1"})
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.integration
def test_serves_every_example_and_stops_on_sigterm(served: Served) -> None:
    process, offset, log = served
    # trust_env=False: a proxy from the environment must not see loopback calls.
    with httpx.Client(trust_env=False, timeout=10) as client:
        for example in EXAMPLES:
            url = example.upstream_url(port_offset=offset) + "/health"
            response = _wait_until_healthy(client, url, served)
            assert response.status_code == 200
            assert response.json() == {"status": "ok", "service": example.api_slug}
            assert response.headers["x-request-id"] == "it-1"

        warnings_url = EXAMPLES[2].upstream_url(port_offset=offset)
        # Through real uvicorn: httpx uploads all of the body before it reads, the case that would
        # deadlock an echo that only reads as fast as it can write.
        payload = random.Random(3).randbytes(8 * MIB)
        echoed = client.post(warnings_url + "/echo", content=payload)
        assert echoed.content == payload
        with client.stream("GET", warnings_url + "/files/3") as download:
            assert download.headers["transfer-encoding"] == "chunked"
            assert sum(len(chunk) for chunk in download.iter_bytes()) == 3 * MIB

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0, log.read_text()


@pytest.mark.integration
def test_stops_on_sigint(served: Served) -> None:
    process, offset, log = served
    with httpx.Client(trust_env=False, timeout=10) as client:
        _wait_until_healthy(client, EXAMPLES[0].upstream_url(port_offset=offset) + "/health", served)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0, log.read_text()


@pytest.mark.integration
def test_a_busy_port_stops_everything_and_names_the_example() -> None:
    offset = _free_port_offset()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", EXAMPLES[1].port + offset))
        squatter.listen()
        finished = subprocess.run(
            [*SERVE, "--port-offset", str(offset), "--log-level", "error"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert finished.returncode == 1
    assert finished.stderr.strip().endswith("could not start companies")
