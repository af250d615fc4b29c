"""The plugins' fast path (gateway/pipeline/fast.py) against the PDK path: the same requests through the
same snapshot, once with the fast path and once without, give the same answers (status, headers, body),
send the same requests upstream (target and header lines) and leave the same usage records.

The calls cover the four plugins the registry emits (key-auth, access-control, rate-limiting with the
local policy, usage-metering) in their common case and around it: refusals (401, 403, 429, the key
guard's 429), hide_credentials on and off, keys under a second name or in the query, anonymous callers,
spoofed consumer headers, sandbox keys, hidden rate-limit headers, a sliding window, a body. Each call
says whether the fast path must answer it whole, and a count of the PDK objects built checks it. The
same calls run with rate-limiting's Redis policy (a private redis-server), whose fast step is awaited,
and a Redis outage is answered by the fast step or handed over as its `fault_tolerant` says.
"""

from __future__ import annotations

import asyncio
import socket
import types
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import gateway.pipeline.route as route_module
from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.config.model import Timeouts
from gateway.engine.testing import Recorded, call
from gateway.pipeline.fast import FastHost, fast_chain
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.pdk import Kong
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from plugins.key_auth import guard
from plugins.rate_limiting import handler as rate_limiting
from plugins.rate_limiting.policies import redis as redis_policy
from plugins.rate_limiting.policies.local import LOCAL
from plugins.usage_metering.recorder import shutdown as flush_records
from tests.plugins.helpers import (
    HMAC_HEX,
    consumer,
    credential,
    records,
    route,
    service,
    snapshot,
    sqlite_copy,
)
from tests.plugins.rate_limiting.conftest import private_redis  # noqa: F401  (the redis runs' server)
from tests.plugins.rate_limiting.redis_server import PrivateRedis

NOW = 1_800_000_030.25  # the clock rate-limiting and the key guard read: the same windows in both runs
PEER, FLOODER = "203.0.113.9", "198.51.100.7"
EXAMPLE = {"status": 200, "content_type": "application/json", "body": {"sandbox": True}}
KEYS: dict[str, str] = {}
_HOUR = timedelta(hours=1)


class _Answer:
    status = 200

    def __init__(self) -> None:
        self.headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
        self._body = b"{}"

    async def read(self) -> bytes:
        body, self._body = self._body, b""
        return body

    def whole(self) -> bytes | None:
        _body, self._body = self._body, b""
        return _body

    def close(self) -> None:
        pass


@dataclass
class RecordingUpstream:
    """The upstream: answers `{}` at once and keeps what the gateway sent it."""

    sent: list[tuple[str, str, bytes, bytes]] = field(default_factory=list)

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def send(self, request: Any) -> _Answer:
        raise AssertionError("the gateway sends header lines as bytes (send_encoded)")

    async def send_encoded(
        self, origin: str, method: str, target: str, headers: bytes, body: AsyncIterable[bytes] | None,
        timeouts: Timeouts, *, has_host: bool = False, has_length: bool = False,
    ) -> _Answer:  # fmt: skip
        received = b"".join([piece async for piece in body]) if body is not None else b""
        self.sent.append((method, target, headers, received))
        return _Answer()


def _keyed(name: str, key_auth: dict[str, Any], *, acl: bool = True, **limits: Any) -> dict[str, Any]:
    plugins: list[dict[str, Any]] = [{"name": "key-auth", "config": key_auth}]
    if acl:
        plugins.append({"name": "access-control", "config": {}})
    if limits:
        plugins.append({"name": "rate-limiting", "config": limits})
    plugins.append({"name": "usage-metering", "config": {"flush_interval": 3600.0}})
    routes = [route("GET", "/items", sandbox=EXAMPLE), route("POST", "/items")]
    return service(name, "http://upstream.test:8080/base", routes, access="key", plugins=plugins)


def _document() -> dict[str, Any]:
    KEYS["acme"], acme = credential("cred-acme")
    KEYS["expired"], expired = credential("cred-expired", expires_in=-_HOUR)
    KEYS["sandbox"], sandbox = credential("cred-sandbox", sandbox=True)
    KEYS["outsider"], outsider = credential("cred-outsider")
    KEYS["guest"], guest_key = credential("cred-guest")
    apis = ["gov/std", "gov/visible", "gov/anon", "gov/quiet", "gov/sliding", "gov/guarded"]
    document = snapshot(
        [
            _keyed("gov.std.v1", {"key_names": ["apikey"], "hide_credentials": True}, limit_by="consumer"),
            _keyed("gov.visible.v1", {"key_names": ["apikey", "X-Api-Key"]}, limit_by="ip", second=50),
            _keyed("gov.anon.v1", {"anonymous": "guest"}, limit_by="consumer"),
            _keyed("gov.quiet.v1", {}, acl=False, limit_by="credential", hide_client_headers=True),
            _keyed("gov.sliding.v1", {}, limit_by="consumer", window="sliding"),
            _keyed("gov.guarded.v1", {"failure_limit": 2}, acl=False),
        ]
    )
    document["consumers"] = [
        consumer("app-acme", "acme", [acme, expired], grants=apis),
        consumer("app-tester", "tester", [sandbox], grants=apis),
        consumer("app-outsider", "outsider", [outsider], plan="gold"),
        consumer("app-guest", "guest", [guest_key], grants=["gov/anon"]),
    ]
    document["plans"] = {
        "free": {"limits": {"minute": 5}},
        "gold": {"limits": {"second": 100, "hour": 5000}},
        **{f"{api.replace('/', '-')}-plan": {"limits": {"minute": 100, "day": 1000}} for api in apis},
        "gov-std-plan": {"limits": {"minute": 3, "day": 1000}},  # the fourth call of a minute is refused
    }
    return document


@dataclass(frozen=True)
class Call:
    path: str
    key: str | None = None  # a name of KEYS, sent as `apikey` unless `header` says otherwise
    header: str = "apikey"
    fast: bool = True  # the fast path answers it without a PDK object
    method: str = "GET"
    query: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    peer: str = PEER


STD, VISIBLE, ANON = "/gov/std/v1/items", "/gov/visible/v1/items", "/gov/anon/v1/items"
QUIET, SLIDING, GUARDED = "/gov/quiet/v1/items", "/gov/sliding/v1/items", "/gov/guarded/v1/items"
CALLS = [
    Call(STD, "acme", fast=False),  # 0: a key's first call: the PDK verifies it
    Call(STD, "acme"),  # 1
    Call(STD, "acme", query="apikey=x&b=2", fast=False),  # 2: hide_credentials with a query: the PDK's
    Call(STD, "acme", fast=False),  # 3: the plan's minute limit (3) reached: 429 by the PDK phase
    Call(STD, fast=False),  # 4: no key: 401
    Call(STD, "nonsense-key", fast=False),  # 5: 401
    Call(STD, "expired", fast=False),  # 6: 401, expired
    Call(STD, "outsider", fast=False),  # 7: verified, then 403 (no grant)
    Call(STD, "outsider", fast=False),  # 8: key-auth's fast step passes, access-control's hands over: 403
    Call(STD, "sandbox", fast=False),  # 9
    Call(STD, "sandbox"),  # 10: the sandbox's example, through the fast path
    Call(STD, "acme", extra=(("apikey", "second"),), fast=False),  # 11: a key sent twice: 401
    Call(VISIBLE, "acme", header="X-Api-Key", fast=False),  # 12
    Call(
        VISIBLE,
        "acme",
        header="X-Api-Key",
        extra=(
            ("x-consumer-id", "spoofed"),
            ("X-Anonymous-Consumer", "x"),
            ("X-Consumer-Custom-ID", "spoofed"),
        ),
    ),  # 13
    Call(VISIBLE, "acme", query="q=1", fast=False),  # 14: key_in_query: the PDK looks in the query
    Call(VISIBLE, "acme", extra=(("x-credential-identifier", "spoofed"),)),  # 15: the key goes upstream
    Call(VISIBLE, "acme", method="POST", body=b'{"a": 1}', extra=(("content-type", "application/json"),)),
    Call(ANON, fast=False),  # 17: no key: the anonymous consumer, by the PDK
    Call(ANON, "guest", fast=False),  # 18
    Call(ANON, "guest"),  # 19
    Call(ANON, "acme", fast=False),  # 20: each service's key-auth verifies a key once
    Call(QUIET, "acme", fast=False),  # 21
    Call(QUIET, "acme"),  # 22: no rate-limit headers, counted by credential
    Call(SLIDING, "acme", fast=False),  # 23: a sliding window: no fast chain for the route
    Call(SLIDING, "acme", fast=False),  # 24
    Call(GUARDED, "acme", fast=False, peer=FLOODER),  # 25
    Call(GUARDED, "acme", peer=FLOODER),  # 26
    Call(GUARDED, "bad-1", fast=False, peer=FLOODER),  # 27
    Call(GUARDED, "bad-2", fast=False, peer=FLOODER),  # 28
    Call(GUARDED, "bad-3", fast=False, peer=FLOODER),  # 29: the third invalid key: 429, the address blocked
    Call(GUARDED, "acme", fast=False, peer=FLOODER),  # 30: blocked: 429 even with the right key
    Call(STD, "acme", fast=False),  # 31: still over the minute's limit
]


@dataclass
class Run:
    answers: list[Recorded]
    upstream: list[tuple[str, str, bytes, bytes]]
    records: list[tuple[Any, ...]]
    pdk_calls: list[bool]  # per call, whether a PDK object was built


def _headers(item: Call, index: int) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", b"gateway.test"), (b"x-request-id", f"call-{index}".encode())]
    if item.key is not None:
        headers.append((item.header.lower().encode(), KEYS.get(item.key, item.key).encode()))
    headers += [(name.lower().encode(), value.encode()) for name, value in item.extra]
    return headers


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The same clock for both runs, and nothing counted or blocked before each (both are per process)."""
    clock = types.SimpleNamespace(time=lambda: NOW)
    monkeypatch.setattr(rate_limiting, "time", clock)
    monkeypatch.setattr(guard, "time", clock)
    monkeypatch.setenv("AGORA_HMAC_KEY", HMAC_HEX)
    monkeypatch.delenv("AGORA_REDIS_URL", raising=False)
    monkeypatch.delenv("AGORA_USAGE_INGEST_URL", raising=False)
    yield
    LOCAL._cells.clear()
    guard._BLOCKED.until.clear()


def _count_pdk_objects(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for every `kong` object the route pipelines build from now on."""
    built: list[int] = []

    class CountedKong(Kong):
        __slots__ = ()

        def __init__(self, *args: Any) -> None:
            built.append(1)
            super().__init__(*args)

    monkeypatch.setattr(route_module, "Kong", CountedKong)
    return built


async def _run(
    document: dict[str, Any],
    database_url: str,
    fast_path: bool,
    monkeypatch: pytest.MonkeyPatch,
    redis: PrivateRedis | None = None,
) -> Run:
    LOCAL._cells.clear()
    guard._BLOCKED.until.clear()
    if redis is not None:  # rate-limiting's policy: Redis when the gateway has one
        redis.client().flushall()
        monkeypatch.setenv("AGORA_REDIS_URL", redis.url)
    monkeypatch.setenv("AGORA_DATABASE_URL", database_url)  # where usage-metering writes
    registry = PluginRegistry.discover("plugins")
    upstream = RecordingUpstream()
    app = create_app(
        GatewaySettings.from_env(), transport=upstream, registry=registry,
        config=compile_snapshot(document, registry), fast_path=fast_path,
    )  # fmt: skip
    built = _count_pdk_objects(monkeypatch)
    answers, pdk_calls = [], []
    for index, item in enumerate(CALLS):
        before = len(built)
        target = f"{item.path}?{item.query}" if item.query else item.path
        answers.append(
            await call(
                app, item.method, target, headers=_headers(item, index), body=item.body, peer=item.peer
            )
        )
        pdk_calls.append(len(built) > before)
    await redis_policy.aclose()  # this loop's Redis connections
    flush_records()  # writes what usage-metering holds
    timing = {"id", "request_id", "at", "latency_ms", "upstream_latency_ms"}
    kept = [
        tuple(
            (column, value)
            for column, value in vars(row).items()
            if column not in timing and column[0] != "_"
        )
        for row in records(database_url)
    ]
    return Run(answers, upstream.sent, kept, pdk_calls)


@pytest.mark.parametrize("policy", ["local", "redis"])
def test_the_fast_path_answers_as_the_pdk_does(
    frozen: None,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    tmp_path: Path,
    policy: str,
    request: pytest.FixtureRequest,
) -> None:
    document = _document()
    redis = request.getfixturevalue("private_redis") if policy == "redis" else None
    (tmp_path / "fast").mkdir(), (tmp_path / "pdk").mkdir()
    fast = asyncio.run(
        _run(document, sqlite_copy(sqlite_template, tmp_path / "fast"), True, monkeypatch, redis)
    )
    pdk = asyncio.run(
        _run(document, sqlite_copy(sqlite_template, tmp_path / "pdk"), False, monkeypatch, redis)
    )

    assert all(pdk.pdk_calls)  # fast path off: every call through the PDK
    assert [not built for built in fast.pdk_calls] == [item.fast for item in CALLS]
    for item, one, other in zip(CALLS, fast.answers, pdk.answers, strict=True):
        assert (one.status, one.headers, one.body) == (other.status, other.headers, other.body), item
    assert fast.upstream == pdk.upstream
    assert fast.records == pdk.records
    statuses = [answer.status for answer in fast.answers]
    assert statuses == [
        200, 200, 200, 429, 401, 401, 401, 403, 403, 200, 200, 401, 200, 200, 200, 200, 200,
        200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 429, 429, 429,
    ]  # fmt: skip
    assert len(fast.records) == len(CALLS)  # one usage record per call, refusals included
    # what the upstream was told, as the plugins' documentation says
    assert _sent(fast, 1)[1] == "/base/items" and b"apikey" not in _sent(fast, 1)[2]  # hide_credentials
    assert _sent(fast, 2)[1] == "/base/items?b=2" and b"apikey" not in _sent(fast, 2)[2]
    lines = _sent(fast, 13)[2]
    assert b"X-Consumer-ID: app-acme\r\n" in lines and b"spoofed" not in lines
    assert b"x-anonymous-consumer" not in lines.lower() and b"x-api-key: " in lines  # hide_credentials off
    assert b"spoofed" not in _sent(fast, 15)[2] and _sent(fast, 16)[3] == b'{"a": 1}'
    assert b"X-Anonymous-Consumer: true" in _sent(fast, 17)[2]
    assert fast.answers[10].header("x-agora-sandbox") == "true"
    assert fast.answers[1].header("ratelimit") == '"minute";r=1;t=30, "day";r=998;t=57570'
    assert fast.answers[22].header("ratelimit") is None and fast.answers[22].status == 200


def _sent(run: Run, index: int) -> tuple[str, str, bytes, bytes]:
    """What the upstream received for call `index` (found by its request id)."""
    (found,) = [sent for sent in run.upstream if f"X-Request-ID: call-{index}\r\n".encode() in sent[2]]
    return found


@pytest.mark.parametrize(
    ("extra", "fast"),
    [
        ({}, True),  # what the registry emits for a restricted API
        ({"name": "cors", "config": {"origins": ["https://app.example"]}}, False),  # no fast path
        ({"name": "rate-limiting", "config": {"window": "sliding"}}, False),
        ({"name": "rate-limiting", "config": {"limit_by": "header", "header_name": "x-tenant"}}, False),
        ({"name": "key-auth", "config": {"key_in_header": False}}, False),
    ],
)
def test_a_route_has_a_fast_chain_only_when_every_plugin_offers_one(
    frozen: None, extra: dict[str, Any], fast: bool
) -> None:
    plugins = [
        {"name": "key-auth", "config": {"hide_credentials": True}},
        {"name": "access-control", "config": {}},
        {"name": "rate-limiting", "config": {"limit_by": "consumer"}},
        {"name": "usage-metering", "config": {}},
    ]
    plugins = [p for p in plugins if p["name"] != extra.get("name")] + ([extra] if extra else [])
    document = snapshot(
        [service("gov.one.v1", "http://upstream.test", [route("GET", "/x")], plugins=plugins)]
    )
    registry = PluginRegistry.discover("plugins")
    config = compile_snapshot(document, registry)
    (built,) = config.snapshot.services
    chain = config.chains[built.routes[0]]
    found = fast_chain(chain, built, FastHost(TrustedProxies()))
    assert (found is not None) == fast
    if found is not None:  # one step per PDK phase, in the chain's order
        assert (len(found.access), [name for name, _ in found.log]) == (3, ["usage-metering"])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port  # closed again when this returns: connecting to it is refused


@pytest.mark.parametrize("fault_tolerant", [True, False])
def test_a_redis_outage_met_by_the_fast_step(
    frozen: None,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    tmp_path: Path,
    fault_tolerant: bool,
) -> None:
    """Redis refuses the connection. Fault tolerant: the fast step serves the call uncounted and without
    rate-limit headers, as the PDK phase does. Otherwise it hands over and the PDK phase answers 503 without
    asking Redis again: the outage's log counts the call once."""
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    limits = {"minute": 10, "limit_by": "ip", "redis_url": url, "fault_tolerant": fault_tolerant}
    plugins = [{"name": "rate-limiting", "config": limits}, {"name": "usage-metering", "config": {}}]
    document = snapshot(
        [service("gov.one.v1", "http://upstream.test:8080", [route("GET", "/x")], plugins=plugins)]
    )
    monkeypatch.setenv("AGORA_DATABASE_URL", sqlite_copy(sqlite_template, tmp_path))
    registry = PluginRegistry.discover("plugins")
    built = _count_pdk_objects(monkeypatch)

    async def one_call() -> tuple[Recorded, int]:
        app = create_app(
            GatewaySettings.from_env(), transport=RecordingUpstream(), registry=registry,
            config=compile_snapshot(document, registry),
        )  # fmt: skip
        answer = await call(app, "GET", "/gov/one/v1/x", headers=[(b"host", b"gateway.test")], peer=PEER)
        (backend,) = redis_policy._backends[asyncio.get_running_loop()].values()
        uncounted = backend.health.uncounted
        await redis_policy.aclose()
        return answer, uncounted

    answer, uncounted = asyncio.run(one_call())
    flush_records()
    assert uncounted == 1
    assert answer.header("ratelimit") is None and answer.header("x-ratelimit-limit-minute") is None
    if fault_tolerant:
        assert (answer.status, built) == (200, [])  # the fast path answered it whole
    else:
        assert (answer.status, built) == (503, [1])
        assert answer.header("retry-after") == "1"
        assert answer.header("content-type") == "application/problem+json"
