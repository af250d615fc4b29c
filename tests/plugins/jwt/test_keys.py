"""The JWKS cache against a real JWKS server on loopback (aiohttp): caching, rotation, storms, outages,
and the address policy (issue 14, item 4): the server is on loopback, which the operator allows here as
`make run` does (AGORA_ALLOWED_UPSTREAM_HOSTS=127.0.0.1); the tests of refusals allow nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from joserfc.jwk import ECKey, RSAKey

from plugins.jwt.keys import JwksCache, KeysUnavailable, fetch_json, key_fits


class Issuer:
    """Serves discovery and a JWKS whose keys the test changes; counts requests."""

    def __init__(self) -> None:
        self.keys: list[Any] = [RSAKey.generate_key(2048, parameters={"kid": "a"}, auto_kid=False)]
        self.status = 200
        self.hits = 0
        self.url = ""
        self.claimed: str | None = None  # the issuer its discovery document names, if not its own URL
        self.jwks_uri: str | None = None  # the jwks_uri its discovery document names, if not its own

    async def jwks(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response({"keys": [k.as_dict(private=False) for k in self.keys]})

    async def discovery(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response(
            {"issuer": self.claimed or self.url, "jwks_uri": self.jwks_uri or self.url + "/jwks"}
        )


@asynccontextmanager
async def serving() -> AsyncIterator[Issuer]:
    issuer = Issuer()
    app = web.Application()
    app.router.add_get("/jwks", issuer.jwks)
    app.router.add_get("/.well-known/openid-configuration", issuer.discovery)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    issuer.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield issuer
    finally:
        await runner.cleanup()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


LOOPBACK_ALLOWED = ("127.0.0.1",)


def run(
    scenario: Callable[[Issuer, JwksCache, Clock], Any], allowed: tuple[str, ...] = LOOPBACK_ALLOWED
) -> None:
    async def main() -> None:
        async with serving() as issuer:
            clock = Clock()
            await scenario(issuer, JwksCache(clock=clock, allowed_hosts=allowed), clock)

    asyncio.run(main())


def test_keys_are_cached_and_refetched_after_the_ttl() -> None:
    async def scenario(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        uri = await cache.jwks_uri(issuer.url, ttl=300)
        assert uri == issuer.url + "/jwks"
        first = await cache.key(uri, "a", "RS256", ttl=300, min_interval=30)
        assert first is not None and first.kid == "a"
        for _ in range(5):
            assert await cache.key(uri, "a", "RS256", ttl=300, min_interval=30) is first
        await cache.jwks_uri(issuer.url, ttl=300)
        assert issuer.hits == 2  # one discovery, one JWKS
        clock.now += 301
        await cache.key(uri, "a", "RS256", ttl=300, min_interval=30)
        assert issuer.hits == 3

    run(scenario)


def test_unknown_kid_refetches_once_per_interval_even_under_a_storm() -> None:
    async def scenario(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        uri = issuer.url + "/jwks"
        await cache.key(uri, "a", "RS256", ttl=300, min_interval=30)
        issuer.keys.append(ECKey.generate_key("P-256", parameters={"kid": "b"}, auto_kid=False))  # rotation
        clock.now += 31
        # 50 concurrent requests with forged kids and one with the new key: a single refetch.
        forged = [cache.key(uri, f"forged-{i}", "RS256", ttl=300, min_interval=30) for i in range(50)]
        results = await asyncio.gather(*forged, cache.key(uri, "b", "ES256", ttl=300, min_interval=30))
        assert results[:50] == [None] * 50 and results[50].kid == "b"
        assert issuer.hits == 2
        assert await cache.key(uri, "forged-again", "RS256", ttl=300, min_interval=30) is None
        assert issuer.hits == 2  # within the interval: no fetch
        clock.now += 31
        await cache.key(uri, "forged-later", "RS256", ttl=300, min_interval=30)
        assert issuer.hits == 3

    run(scenario)


def test_outage_keeps_known_keys_and_no_keys_is_unavailable() -> None:
    async def scenario(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        uri = issuer.url + "/jwks"
        known = await cache.key(uri, "a", "RS256", ttl=300, min_interval=30)
        issuer.status = 500
        clock.now += 400  # stale, and the issuer is down: the keys it had still verify
        assert await cache.key(uri, "a", "RS256", ttl=300, min_interval=30) is known
        with pytest.raises(KeysUnavailable):
            await JwksCache(clock=clock, allowed_hosts=LOOPBACK_ALLOWED).key(
                uri, "a", "RS256", ttl=300, min_interval=30
            )
        with pytest.raises(KeysUnavailable):
            await fetch_json(issuer.url + "/nowhere")

    run(scenario)


def test_discovery_must_name_the_same_issuer() -> None:
    async def scenario(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        issuer.claimed = "https://impostor.example"
        with pytest.raises(KeysUnavailable, match="does not describe"):
            await cache.jwks_uri(issuer.url, ttl=300)

    run(scenario)


def test_key_must_fit_the_algorithm() -> None:
    rsa = RSAKey.generate_key(2048)
    p256, p384 = ECKey.generate_key("P-256"), ECKey.generate_key("P-384")
    assert key_fits(rsa, "RS256") and key_fits(rsa, "PS256") and not key_fits(rsa, "ES256")
    assert key_fits(p256, "ES256") and not key_fits(p384, "ES256") and key_fits(p384, "ES384")


@pytest.mark.parametrize(
    ("named", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/jwks", "link-local"),
        ("http://[::ffff:169.254.169.254]/jwks", "link-local"),
        ("http://metadata.google.internal./jwks", "metadata"),
        ("http://0x7f000001:{port}/jwks", "loopback"),
        ("http://localhost:{port}/jwks", "loopback"),
        ("http://user:pw@id.example.gov/jwks", "credentials"),
        ("file:///etc/passwd", "http"),
    ],
)
def test_a_discovered_jwks_uri_is_checked_like_publication(named: str, reason: str) -> None:
    """The provider's discovery document names the jwks_uri: publication never saw it. Refused before
    any request to it: the cache asks for nothing but the discovery document."""

    async def scenario(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        issuer.jwks_uri = named.format(port=issuer.url.rsplit(":", 1)[1])
        with pytest.raises(KeysUnavailable, match="may not fetch") as refused:
            await cache.jwks_uri(issuer.url, ttl=300)
        assert reason in str(refused.value)
        assert issuer.hits == 1 and cache.fetches == 1  # the discovery document, nothing else

    run(scenario, allowed=())


def test_a_discovered_jwks_uri_on_loopback_needs_the_operator() -> None:
    async def refused(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        with pytest.raises(KeysUnavailable, match="loopback"):
            await cache.jwks_uri(issuer.url, ttl=300)

    async def allowed(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        uri = await cache.jwks_uri(issuer.url, ttl=300)
        assert await cache.key(uri, "a", "RS256", ttl=300, min_interval=30) is not None

    run(refused, allowed=())
    run(allowed, allowed=LOOPBACK_ALLOWED)


def test_a_name_resolving_inside_is_refused_when_connecting() -> None:
    """`localhost` passes no publication, but a name can resolve to anything later (DNS rebinding): the
    fetch resolves it, checks each address, and connects only to one it allowed."""

    async def scenario(issuer: Issuer, cache: JwksCache, clock: Clock) -> None:
        named = issuer.url.replace("127.0.0.1", "localhost")
        with pytest.raises(KeysUnavailable, match="refused by the platform's address policy"):
            await cache.jwks_uri(named, ttl=300)
        with pytest.raises(KeysUnavailable, match=r"resolved to 127\.0\.0\.1, loopback"):
            await fetch_json(named + "/jwks")
        assert issuer.hits == 0  # no connection was made
        assert (await fetch_json(named + "/jwks", allowed_hosts=["localhost"]))["keys"]
        assert (await fetch_json(named + "/jwks", allowed_hosts=["127.0.0.1"]))["keys"]
        assert issuer.hits == 2

    run(scenario, allowed=())
