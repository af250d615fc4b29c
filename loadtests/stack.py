"""The servers of `make bench`, started once and measured in turn:

    1  upstream      nginx answering a fixed JSON body (one worker), called directly
    2  nginx         nginx `proxy_pass` (one worker, keep-alive 64 to the upstream)
    3  bare          Agora's gateway serving the bench API with no plugins
    4  plugins       the same with key-auth, access-control, rate-limiting (local) and usage-metering
    5  redis         the same with rate-limiting's redis policy (AGORA_REDIS_URL)

Targets 2-5 forward to one upstream nginx pinned with the load generator (with Redis beside it): the
upstream and Redis stand for other machines, and the server cores measure only the proxy under test.
Target 1 is a second instance of that upstream on the server cores, measured the way the proxies are.
Usage records go to the bench registry's SQLite database (metering's default backend), one copy per
gateway so that two flushers never share a file.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .fixtures import BENCH_PATH, BenchPlatform, build_platform, without_plugins, write_json
from .servers import (
    Server,
    free_port,
    origin_config,
    proxy_config,
    start_gateway,
    start_nginx,
    start_redis,
)

__all__ = ["LABELS", "BenchStack", "Target", "bench_stack"]

LABELS = {
    1: "upstream directly (nginx, fixed answer)",
    2: "nginx proxy_pass",
    3: "Agora, no plugins",
    4: "Agora, key-auth + acl + rate-limiting (local) + metering",
    5: "Agora, the same with rate-limiting (redis)",
}


@dataclass(frozen=True)
class Target:
    number: int
    label: str
    url: str
    server: Server
    load: tuple[Server, ...]  # processes on the load generator's side it depends on
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BenchStack:
    directory: Path
    platform: BenchPlatform
    server_cpus: tuple[int, ...]
    load_cpus: tuple[int, ...]
    origin: Server
    targets: dict[int, Target] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)

    def gateway(
        self, name: str, *, plugins: bool, redis: Server | None = None, workers: int = 1,
        cpus: Sequence[int] | None = None, origin: Server | None = None, only: Sequence[str] | None = None,
    ) -> Server:  # fmt: skip
        """A gateway process serving the bench snapshot (with or without its plugins, or `only` these)."""
        origin = origin or self.origin
        snapshot = dict(self.platform.snapshot)
        snapshot["services"] = [
            {**s, "upstream": origin.url}
            | ({"plugins": [p for p in s["plugins"] if p["name"] in only]} if only is not None else {})
            for s in snapshot["services"]
        ]
        document = snapshot if plugins else without_plugins(snapshot)
        path = write_json(self.directory / f"{name}.snapshot.json", document)
        database = self.directory / f"{name}.db"
        shutil.copyfile(self.platform.database_url.removeprefix("sqlite:///"), database)
        env = {
            "AGORA_HMAC_KEY": self.platform.hmac_hex,
            "AGORA_STATE_DIR": str(self.directory / "state"),
            "AGORA_DATABASE_URL": f"sqlite:///{database}",
            "AGORA_GATEWAY_CACHE": str(self.directory / f"{name}.cache.json"),
        }
        if redis is not None:
            env["AGORA_REDIS_URL"] = redis.url
        server = start_gateway(
            name, port=free_port(), snapshot=path, directory=self.directory, env=env,
            cpus=self.server_cpus if cpus is None else cpus, workers=workers,
            ready_path=BENCH_PATH, ready_headers=self.key_header if plugins else None,
        )  # fmt: skip
        self.servers.append(server)
        return server

    @property
    def key_header(self) -> dict[str, str]:
        return {"apikey": self.platform.api_key}

    def nginx(self, name: str, body: str, port: int, cpus: Sequence[int]) -> Server:
        server = start_nginx(name, body, port, self.directory, cpus)
        self.servers.append(server)
        return server


@contextlib.contextmanager
def bench_stack(
    numbers: Sequence[int], server_cpus: tuple[int, ...], load_cpus: tuple[int, ...]
) -> Iterator[BenchStack]:
    """Starts the upstream, the registry and the servers of the targets `numbers`; stops them all."""
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        directory = Path(tmp)
        port = free_port()
        origin = start_nginx("origin", origin_config(port), port, directory, load_cpus)
        stack = BenchStack(
            directory, build_platform(directory, origin.url), server_cpus, load_cpus, origin, servers=[origin]
        )
        try:
            _start_targets(stack, numbers)
            yield stack
        finally:
            for server in reversed(stack.servers):
                server.stop()


def _start_targets(stack: BenchStack, numbers: Sequence[int]) -> None:
    path, origin, cpus = BENCH_PATH, stack.origin, stack.server_cpus
    if 1 in numbers:
        port = free_port()
        server = stack.nginx("upstream", origin_config(port), port, cpus)
        stack.targets[1] = Target(1, LABELS[1], server.url + path, server, ())
    if 2 in numbers:
        port = free_port()
        server = stack.nginx("nginx-proxy", proxy_config(port, int(origin.url.rsplit(":", 1)[1])), port, cpus)
        stack.targets[2] = Target(2, LABELS[2], server.url + path, server, (origin,))
    if 3 in numbers:
        server = stack.gateway("gateway-bare", plugins=False)
        stack.targets[3] = Target(3, LABELS[3], server.url + path, server, (origin,))
    if 4 in numbers:
        server = stack.gateway("gateway-plugins", plugins=True)
        stack.targets[4] = Target(4, LABELS[4], server.url + path, server, (origin,), stack.key_header)
    if 5 in numbers:
        port = free_port()
        redis = start_redis(port, stack.directory, stack.load_cpus)
        stack.servers.append(redis)
        server = stack.gateway("gateway-redis", plugins=True, redis=redis)
        stack.targets[5] = Target(5, LABELS[5], server.url + path, server, (origin, redis), stack.key_header)
