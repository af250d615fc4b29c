"""Issuers' signing keys: OpenID discovery and JWKS, fetched without blocking the event loop and cached.

One `JwksCache` per gateway worker (`CACHE`) is shared by every jwt plugin instance, so a snapshot
reload (which rebuilds the plugins) keeps the keys. Per JWKS URI:
- keys are refetched when older than `ttl`, or when a token names a `kid` the set lacks (key
  rotation), but at most once per `min_interval` seconds: forged `kid`s cannot cause a fetch storm;
- one fetch at a time (concurrent requests wait for it rather than fetching too);
- a failed refetch keeps serving the keys it had (an issuer's brief outage does not lock everyone
  out); with no keys at all, `KeysUnavailable`.

Where the gateway may fetch from (issue 14, item 4): the same policy as upstreams (agora/addresses.py),
with the operator's exceptions in AGORA_ALLOWED_UPSTREAM_HOSTS.
- The `issuer` and a configured `jwks_uri` were checked at publication; a `jwks_uri` that discovery
  names comes from the provider's answer, so it is checked here, with publication's check, before
  anything is fetched from it (a refusal is `KeysUnavailable`: the plugin's 503).
- Every fetch resolves the name, checks each address and connects to an address it checked
  (`_CheckedResolver`), as the gateway's upstream client does: a name that resolves inside (DNS
  rebinding) is refused when connecting. A host written as an address passes there, as upstreams'
  do: it was judged before (at publication, or by the discovery check above).

The fetch is a seam (`Fetch`): `fetch_json` uses aiohttp; tests may pass another coroutine.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from agora.addresses import allowed_hosts_from_env, connect_check
from agora.errors import InvalidInput
from registry.upstreams import check_url

__all__ = [
    "CACHE",
    "Fetch",
    "JwksCache",
    "KeysUnavailable",
    "fetch_json",
    "key_fits",
]

FETCH_TIMEOUT = 5.0  # seconds for one discovery or JWKS request
MAX_DOCUMENT_BYTES = 1 << 20  # a JWKS is a few KiB; refuse to read a huge answer
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


class KeysUnavailable(Exception):
    """The issuer's keys cannot be had (fetch failed, or the answer is not a usable JWKS)."""


Fetch = Callable[[str], Awaitable[dict[str, Any]]]


class _CheckedResolver(AbstractResolver):
    """Resolves a name and keeps only the addresses the policy allows. aiohttp connects to what this
    returns, so the address checked is the address connected to: the name is not looked up again."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self._check = connect_check(allowed_hosts)
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        reasons = [self._check(host, result["host"]) for result in found]
        allowed = [result for result, reason in zip(found, reasons, strict=True) if reason is None]
        if not allowed:
            # An OSError is what aiohttp expects of a resolver (it becomes a ClientConnectorDNSError,
            # which shows the strerror): EACCES, as the connection is not permitted.
            reason = next(filter(None, reasons), host)
            raise OSError(errno.EACCES, f"refused by the platform's address policy: {reason}")
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


async def fetch_json(url: str, *, allowed_hosts: Iterable[str] = ()) -> dict[str, Any]:
    """GET a JSON object, connecting only to addresses the policy allows (`allowed_hosts`: the operator's
    exceptions). A session per call: fetches are rare (cache), and nothing is left to close."""
    resolver = _CheckedResolver(allowed_hosts)
    try:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
        async with (
            aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
            session.get(url, allow_redirects=False, headers={"Accept": "application/json"}) as response,
        ):
            if response.status != 200:
                raise KeysUnavailable(f"{url} answered {response.status}")
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise KeysUnavailable(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
            document = json.loads(body)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise KeysUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
    finally:
        await resolver.close()  # a connector closes only the resolvers it made
    if not isinstance(document, dict):
        raise KeysUnavailable(f"{url} did not answer a JSON object")
    return document


def key_fits(key: Any, alg: str) -> bool:
    """Whether a JWK can verify `alg` (RSA for RS/PS, the matching curve for ES)."""
    if alg.startswith(("RS", "PS")):
        return isinstance(key, RSAKey)
    return isinstance(key, ECKey) and key.get("crv") == _CURVES.get(alg)


def _key_set(document: dict[str, Any], url: str) -> KeySet:
    usable = [
        jwk
        for jwk in document.get("keys") or ()
        if isinstance(jwk, dict) and jwk.get("kty") in ("RSA", "EC") and jwk.get("use", "sig") == "sig"
    ]
    try:
        return KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError) as exc:
        raise KeysUnavailable(f"{url} is not a usable JWKS: {exc}") from exc


@dataclass(slots=True)
class _Entry:
    keys: KeySet | None
    fetched_at: float  # when `keys` were fetched
    attempted_at: float  # the last fetch attempt, successful or not


class JwksCache:
    def __init__(
        self,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        allowed_hosts: tuple[str, ...] | None = None,
    ) -> None:
        """`allowed_hosts`: the operator's exceptions to the address policy; None reads
        AGORA_ALLOWED_UPSTREAM_HOSTS when needed. `fetch` defaults to `fetch_json` under that policy."""
        self._allowed_hosts = allowed_hosts
        self._fetch = fetch or self._fetch_checked
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._discovered: dict[str, tuple[str, float]] = {}  # issuer -> (jwks_uri, when)
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0  # JWKS and discovery requests made, for tests and logs

    async def jwks_uri(self, issuer: str, ttl: float) -> str:
        """The issuer's `jwks_uri`, from its OpenID configuration (which must name the same issuer)."""
        found = self._discovered.get(issuer)
        if found is not None and self._clock() - found[1] < ttl:
            return found[0]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with self._lock(url):
            found = self._discovered.get(issuer)
            if found is not None and self._clock() - found[1] < ttl:
                return found[0]
            self.fetches += 1
            document = await self._fetch(url)
            uri = document.get("jwks_uri")
            if document.get("issuer") != issuer or not isinstance(uri, str):
                raise KeysUnavailable(f"{url} does not describe the issuer {issuer!r} with a jwks_uri")
            try:  # the provider names it: publication never saw it
                uri = check_url(uri, allowed_hosts=self.allowed_hosts(), what="jwks_uri")
            except InvalidInput as exc:
                raise KeysUnavailable(
                    f"{url} names a jwks_uri the gateway may not fetch: {exc.detail}"
                ) from None
            self._discovered[issuer] = (uri, self._clock())
            return uri

    def allowed_hosts(self) -> tuple[str, ...]:
        return allowed_hosts_from_env() if self._allowed_hosts is None else self._allowed_hosts

    async def _fetch_checked(self, url: str) -> dict[str, Any]:
        return await fetch_json(url, allowed_hosts=self.allowed_hosts())

    async def key(
        self, uri: str, kid: str | None, alg: str, *, ttl: float, min_interval: float
    ) -> Any | None:
        """The key of `uri`'s set with this `kid` able to verify `alg`; None if the set has none."""
        entry = self._entries.get(uri)
        if entry is not None and entry.keys is not None and self._clock() - entry.fetched_at < ttl:
            found = self._find(entry.keys, kid, alg)
            if found is not None:
                return found
        async with self._lock(uri):
            entry = self._entries.get(uri)  # another request may have fetched while this one waited
            if entry is None or self._clock() - entry.attempted_at >= min_interval:
                entry = await self._refresh(uri, entry)
        if entry.keys is None:
            raise KeysUnavailable(f"no keys from {uri} yet")
        return self._find(entry.keys, kid, alg)

    async def _refresh(self, uri: str, entry: _Entry | None) -> _Entry:
        now = self._clock()
        self.fetches += 1
        try:
            keys = _key_set(await self._fetch(uri), uri)
        except KeysUnavailable:
            if entry is None or entry.keys is None:
                self._entries[uri] = _Entry(None, now, now)
                raise
            entry.attempted_at = now  # keep serving the keys we had
            return entry
        fresh = _Entry(keys, now, now)
        self._entries[uri] = fresh
        return fresh

    @staticmethod
    def _find(keys: KeySet, kid: str | None, alg: str) -> Any | None:
        candidates = [k for k in keys.keys if (kid is None or k.kid == kid) and key_fits(k, alg)]
        # Without a `kid`, only an unambiguous set is usable: never try keys one by one.
        return candidates[0] if len(candidates) == 1 or (kid is not None and candidates) else None

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock


CACHE = JwksCache()
