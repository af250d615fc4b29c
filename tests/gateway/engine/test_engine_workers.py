"""`run_workers` with real processes: two workers answer on one port, SIGTERM lets an in-flight request
finish, a killed worker is restarted, and workers do not outlive a killed supervisor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agora.errors import Conflict, InvalidInput
from gateway.engine.workers import run_workers
from plugins.rate_limiting.policies.shared import ENV
from tests.gateway.engine.worker_bodies import LIMIT, SLOW, pid_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str = "/", timeout: float = 10.0) -> str:
    """The body of one answer, on a fresh connection (each may reach another worker)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK"), data
    return data.split(b"\r\n\r\n", 1)[1].decode()


def children(pid: int) -> set[int]:
    """The child processes of `pid`: its workers, and multiprocessing's resource tracker."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Supervisor:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def answering_pids(self, want: int, within: float = 30.0) -> set[str]:
        """Pids seen answering until `want` of them were (a worker may still be starting)."""
        seen: set[str] = set()
        deadline = time.monotonic() + within
        while len(seen) < want and time.monotonic() < deadline:
            seen.add(get(self.port))
        return seen


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    started: list[Supervisor] = []

    def starting(*mode: str) -> Supervisor:
        port, log = _free_port(), tmp_path / f"supervisor-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.gateway.engine.worker_bodies", str(port), "2", "5", *mode],
                cwd=ROOT,
                stderr=out,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        started.append(Supervisor(process, port, log))
        deadline = time.monotonic() + 30
        while True:
            try:
                get(port, timeout=2)
                return started[-1]
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.1)

    try:
        yield starting
    finally:
        for supervisor in started:
            if supervisor.process.poll() is None:
                supervisor.process.kill()
                supervisor.process.wait()


@pytest.fixture
def supervisor(start: Callable[..., Supervisor]) -> Supervisor:
    return start()


def test_two_workers_answer_on_one_port(supervisor: Supervisor) -> None:
    pids = supervisor.answering_pids(2)
    assert len(pids) == 2
    assert {int(pid) for pid in pids} <= children(supervisor.process.pid)


def test_sigterm_lets_an_in_flight_request_finish_then_stops(supervisor: Supervisor) -> None:
    workers = {int(pid) for pid in supervisor.answering_pids(2)}
    answers: list[str] = []
    slow = threading.Thread(target=lambda: answers.append(get(supervisor.port, "/slow")))
    started = time.monotonic()
    slow.start()
    time.sleep(SLOW / 4)  # the slow request is in flight
    supervisor.process.send_signal(signal.SIGTERM)
    slow.join(timeout=30)
    assert answers and answers[0].isdigit()  # answered whole, by a worker that was stopping
    assert time.monotonic() - started >= SLOW
    assert supervisor.process.wait(timeout=30) == 0
    assert not any(alive(pid) for pid in workers)
    with pytest.raises(ConnectionRefusedError):
        get(supervisor.port, timeout=2)
    log = supervisor.log.read_text()
    assert "stopping 2 workers (signal 15)" in log
    assert all(f"exit {pid}\n" in log for pid in workers)


def test_sigint_stops_the_workers_too(supervisor: Supervisor) -> None:
    supervisor.process.send_signal(signal.SIGINT)
    assert supervisor.process.wait(timeout=30) == 0


def test_a_killed_worker_is_restarted(supervisor: Supervisor) -> None:
    before = supervisor.answering_pids(2)
    victim = int(sorted(before)[0])
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    seen: set[str] = set()
    while not (seen - before) and time.monotonic() < deadline:
        seen.add(get(supervisor.port))  # the survivor answers meanwhile
    replacement = seen - before
    assert replacement, f"no new worker answered; log: {supervisor.log.read_text()}"
    assert {int(pid) for pid in replacement} <= children(supervisor.process.pid)
    assert not alive(victim)
    log = supervisor.log.read_text()
    assert f"(pid {victim}) exited unexpectedly (signal SIGKILL)" in log
    assert "restarting it in 0.5 s" in log
    assert f"exit {victim}\n" in log  # on_exit ran for it
    supervisor.process.send_signal(signal.SIGTERM)
    assert supervisor.process.wait(timeout=30) == 0


def test_workers_do_not_outlive_a_killed_supervisor(supervisor: Supervisor) -> None:
    workers = {int(pid) for pid in supervisor.answering_pids(2)}
    assert len(workers) == 2
    supervisor.process.kill()
    supervisor.process.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)


def test_the_workers_of_a_node_share_their_rate_limiting_counters(start: Callable[..., Supervisor]) -> None:
    supervisor = start("node")  # as `agora gateway --workers 2` starts them
    workers = supervisor.answering_pids(2)
    environ = Path(f"/proc/{sorted(workers)[0]}/environ").read_bytes().split(b"\0")
    table = Path(next(v for v in environ if v.startswith(ENV.encode() + b"=")).split(b"=", 1)[1].decode())
    assert table.exists()
    answers = [get(supervisor.port, "/count").split() for _ in range(2 * LIMIT)]
    # The kernel hands connections to whichever worker accepts first: on a busy machine one may take
    # a long run of them. Go on until both have answered (the limit stays LIMIT whatever the count).
    while {pid for pid, _ in answers} != workers and len(answers) < 50 * LIMIT:
        answers.append(get(supervisor.port, "/count").split())
    assert {pid for pid, _ in answers} == workers  # both workers counted
    assert sum(verdict == "allowed" for _, verdict in answers) == LIMIT  # not LIMIT per worker
    supervisor.process.send_signal(signal.SIGTERM)
    assert supervisor.process.wait(timeout=30) == 0
    assert not table.exists()  # removed with the workers


def test_a_port_in_use_fails_before_any_worker_starts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(Conflict, match=rf"cannot listen on 127.0.0.1:{port}: Address already in use"):
            run_workers(2, "127.0.0.1", port, pid_server, grace=1)
    with pytest.raises(InvalidInput, match="workers must be at least 1"):
        run_workers(0, "127.0.0.1", 0, pid_server, grace=1)
