"""The Redis policy's connection (policies/pipe.py) against real redis-server processes: what a URL
asks for (a password and a database, TLS with a verified certificate, a Unix socket), the script loaded
again when Redis lost it, callers answered in order when one of them went away, one connection per
event loop however many calls a turn makes."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Awaitable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme

from plugins.rate_limiting.policies import Counter, PolicyUnavailable
from plugins.rate_limiting.policies import redis as redis_policy
from plugins.rate_limiting.policies.redis import RedisPolicy, aclose
from tests.plugins.rate_limiting.redis_server import PrivateRedis, free_port

pytestmark = pytest.mark.integration


def run(call: Awaitable[object]) -> object:
    async def closing() -> object:
        try:
            return await call
        finally:
            await aclose()

    return asyncio.run(closing())


def counter(name: str = "c", limit: int = 100) -> list[Counter]:
    return [Counter(f"{name}-{uuid.uuid4().hex}", None, limit, 0.0, 60)]


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[PrivateRedis]]:
    servers: list[PrivateRedis] = []
    yield servers
    for server in servers:
        server.stop()


def start(started: list[PrivateRedis], server: PrivateRedis) -> PrivateRedis:
    started.append(server)
    server.start()
    return server


def test_password_and_database_of_the_url(tmp_path: Path, started: list[PrivateRedis]) -> None:
    server = start(started, PrivateRedis(tmp_path, password="s3cret/+"))
    url = f"redis://:{quote('s3cret/+', safe='')}@127.0.0.1:{server.port}/3"
    counted = counter()
    hit = run(RedisPolicy(url, 2000).hit(counted))
    assert hit == (True, ((1, 0),))  # type: ignore[comparison-overlap]
    assert server.client(db=3).get(counted[0].key) == b"1" and server.client(db=0).get(counted[0].key) is None
    wrong = f"redis://:nope@127.0.0.1:{server.port}/3"
    with pytest.raises(PolicyUnavailable):  # the AUTH refused: unavailable, as an unreachable Redis
        run(RedisPolicy(wrong, 2000).hit(counter()))


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def test_tls_with_the_certificate_verified(
    tmp_path: Path, started: list[PrivateRedis], authority: trustme.CA
) -> None:
    cert = authority.issue_cert("127.0.0.1")
    chain, key, ca = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    tls_port = free_port()
    server = start(started, PrivateRedis(
        tmp_path, "--tls-port", str(tls_port), "--tls-cert-file", str(chain), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no",
    ))  # fmt: skip
    counted = counter()
    url = f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={ca}"
    assert run(RedisPolicy(url, 2000).hit(counted)).counts == ((1, 0),)  # type: ignore[attr-defined]
    assert server.client().get(counted[0].key) == b"1"
    # Without our authority, the server's certificate is refused: nothing sent, the policy unavailable.
    with pytest.raises(PolicyUnavailable) as refused:
        run(RedisPolicy(f"rediss://127.0.0.1:{tls_port}/0", 2000).hit(counter()))
    assert isinstance(refused.value.__cause__.__cause__, ssl.SSLCertVerificationError)  # type: ignore[union-attr]
    # Asked not to verify, it connects (the URL's ssl_cert_reqs, as redis-py reads it).
    lenient = f"rediss://127.0.0.1:{tls_port}/0?ssl_cert_reqs=none"
    assert run(RedisPolicy(lenient, 2000).hit(counter())).allowed  # type: ignore[attr-defined]


def test_unix_socket(tmp_path: Path, started: list[PrivateRedis]) -> None:
    path = tmp_path / "redis.sock"
    server = start(started, PrivateRedis(tmp_path, "--unixsocket", str(path), "--unixsocketperm", "700"))
    counted = counter()
    assert run(RedisPolicy(f"unix://{path}?db=2", 2000).hit(counted)).allowed  # type: ignore[attr-defined]
    assert server.client(db=2).get(counted[0].key) == b"1"


def test_the_script_is_loaded_again_when_redis_lost_it(tmp_path: Path, started: list[PrivateRedis]) -> None:
    server = start(started, PrivateRedis(tmp_path))
    policy, counted = RedisPolicy(server.url, 2000), counter()
    admin = server.client()

    async def calls() -> list[tuple[int, int]]:
        first = await policy.hit(counted)
        admin.script_flush()  # under the open connection: the next EVALSHA is answered NOSCRIPT
        second, third = await asyncio.gather(policy.hit(counted), policy.hit(counted))
        return [first.counts[0], second.counts[0], third.counts[0]]

    assert run(calls()) == [(1, 0), (2, 0), (3, 0)]  # each call counted once, answered in order
    stats = admin.info("commandstats")
    assert stats["cmdstat_script|load"]["calls"] == 3  # on connecting, then before each call sent again
    assert stats["cmdstat_evalsha"]["calls"] == 5  # 3 calls; 2 of them sent twice


def test_a_caller_gone_does_not_shift_the_others_answers(tmp_path: Path, started: list[PrivateRedis]) -> None:
    server = start(started, PrivateRedis(tmp_path))
    policy = RedisPolicy(server.url, 2000)
    counters = [counter(f"n{i}", limit=1000) for i in range(20)]

    async def calls() -> list[int]:
        await policy.hit(counter())  # connected
        tasks = [asyncio.ensure_future(policy.hit(c)) for c in counters]
        await asyncio.sleep(0)  # every call is in the batch now
        tasks[3].cancel()
        tasks[11].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [0 if isinstance(hit, BaseException) else hit.counts[0][0] for hit in done]

    answers = run(calls())
    assert answers == [0 if i in (3, 11) else 1 for i in range(20)]
    admin = server.client()
    assert all(admin.get(c[0].key) == b"1" for c in counters)  # the cancelled two were counted anyway


def test_one_connection_per_loop_whatever_the_concurrency(
    tmp_path: Path, started: list[PrivateRedis]
) -> None:
    server = start(started, PrivateRedis(tmp_path))
    policy, counted = RedisPolicy(server.url, 2000), counter(limit=450)

    async def calls() -> list[bool]:
        hits = await asyncio.gather(*(policy.hit(counted) for _ in range(500)))  # connecting meanwhile
        hits += await asyncio.gather(*(policy.hit(counted) for _ in range(100)))
        (backend,) = redis_policy._backends[asyncio.get_running_loop()].values()
        assert backend.pipe is not None and not backend.pipe.waiting
        assert len(admin.client_list()) == 2  # the policy's one connection, and this one
        return [h.allowed for h in hits]

    admin = server.client()
    assert run(calls()) == [True] * 450 + [False] * 150  # answered in order


@pytest.mark.parametrize(
    "answer", [b"?not RESP\r\n", b"+OK\r\n+OK\r\n+OK\r\n"], ids=["garbage", "extra-replies"]
)
def test_a_peer_that_breaks_the_protocol_is_dropped_at_once(answer: bytes) -> None:
    """Whatever answers on the port (not Redis, or a Redis answering more than it was asked): the calls
    waiting fail at once, well before the timeout, and the connection is dropped."""

    async def scenario() -> float:
        dropped = asyncio.Event()

        async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.read(65536)  # the connection's first commands (SCRIPT LOAD)
                writer.write(answer)
                await writer.drain()
                await reader.read()  # until the policy drops the connection
            except ConnectionError:
                pass
            finally:
                writer.close()
                dropped.set()

        server = await asyncio.start_server(peer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        policy = RedisPolicy(f"redis://127.0.0.1:{port}/0", 5000)
        started = asyncio.get_running_loop().time()
        try:
            with pytest.raises(PolicyUnavailable):
                await policy.hit(counter())
            elapsed = asyncio.get_running_loop().time() - started
            await asyncio.wait_for(dropped.wait(), 2)  # the policy closed its side
            return elapsed
        finally:
            await aclose()
            server.close()
            await server.wait_closed()

    assert asyncio.run(scenario()) < 1.0  # not the 5 s timeout
