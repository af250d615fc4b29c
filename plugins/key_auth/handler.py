"""`key-auth`: API keys, with Kong's key-auth semantics so existing Kong clients keep working.

For each of `key_names` in order, the header (`key_in_header`) then the query parameter
(`key_in_query`) is looked at; the first found is the key. A key sent twice is refused. With
`hide_credentials`, once a key is found under a name, both the header and the query argument of
that name are removed from the upstream request (Kong clears both, whichever carried it). A valid key
authenticates its application (`kong.client.authenticate`: later plugins and metering see it; a
sandbox key sends the call to the sandbox) and the upstream receives `X-Consumer-ID`,
`X-Consumer-Username` and `X-Credential-Identifier` (the client's own copies are replaced or cleared,
so they cannot be spoofed). It also sets `kong.ctx.shared["agora.plan"]` (`plugins.CTX_PLAN`) to the
application's plan slug, which access-control may replace with a grant's plan.

Refusals are 401 problem documents with `WWW-Authenticate: Key realm="<realm>"`, unless `anonymous`
names a consumer to fall back to. With `anonymous` the plugin is in Kong's "logical OR" flow: a
request another authentication plugin already authenticated with a credential is left as it is
(neither checked again nor turned anonymous).

Brute force is slowed (guard.py): past `failure_limit` invalid keys from one client address within
`failure_window` seconds, its keys are refused with 429 until the window ends, and the block is
logged with the address and the key's public prefix only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from agora.errors import InvalidInput
from agora.settings import load_settings
from plugins import CTX_PLAN
from plugins.fast import FastPath, Host, State, UpstreamHeaders
from plugins.key_auth.credentials import Found, Outcome, check_key, is_expired
from plugins.key_auth.guard import ERR_TOO_MANY_FAILURES, Guard, any_blocked
from plugins.key_auth.schema import Schema

__all__ = [
    "ERR_DUPLICATE_API_KEY",
    "ERR_EXPIRED_KEY",
    "ERR_INVALID_AUTH_CRED",
    "ERR_NO_API_KEY",
    "PRIORITY",
    "VERSION",
    "Plugin",
    "Schema",
    "identity_headers",
    "priority",
    "version",
]

PRIORITY = 1250  # Kong's key-auth: after cors and ip-restriction, before acl (950) and rate-limiting
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_NO_API_KEY = "No API key found in request"
ERR_INVALID_AUTH_CRED = "Unauthorized"
ERR_DUPLICATE_API_KEY = "Duplicate API key found"
ERR_EXPIRED_KEY = "API key has expired"  # said only to a caller who holds the whole key
ERR_NO_ANONYMOUS = "anonymous consumer {!r} is not in the snapshot"
ERR_KEY_IN_BODY = "key-auth: key_in_body is not supported (request bodies are streamed, never buffered)"

CONSUMER_ID, CONSUMER_USERNAME = "X-Consumer-ID", "X-Consumer-Username"
CREDENTIAL_IDENTIFIER, ANONYMOUS = "X-Credential-Identifier", "X-Anonymous-Consumer"
CONSUMER_CUSTOM_ID = "X-Consumer-Custom-ID"  # Kong sends it; Agora's consumers have none: always cleared
MAX_HEADERS = 100  # what kong.request.get_headers() returns by default
VERIFIED_LIMIT = 10_000  # keys remembered as valid per instance; past it the memory starts again


@lru_cache(maxsize=4)
def _platform_key(_env_key: str | None, _state_dir: str | None) -> bytes:
    return load_settings().hmac_key  # the registry's key, from the environment or the secrets file


def platform_hmac_key() -> bytes:
    """Cached per environment: every service's key-auth instance is rebuilt on each snapshot reload."""
    return _platform_key(os.environ.get("AGORA_HMAC_KEY"), os.environ.get("AGORA_STATE_DIR"))


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        names = config["key_names"]
        if not names or not all(isinstance(n, str) and n for n in names):
            raise InvalidInput("key-auth: key_names must be a non-empty list of names")
        if config["key_in_body"]:
            raise InvalidInput(ERR_KEY_IN_BODY)
        self.key_names: tuple[str, ...] = tuple(names)
        self.hide_credentials: bool = config["hide_credentials"]
        self.in_header: bool = config["key_in_header"]
        self.in_query: bool = config["key_in_query"]
        self.run_on_preflight: bool = config["run_on_preflight"]
        self.anonymous: str | None = config["anonymous"] or None
        self.challenge = f'Key realm="{config["realm"]}"'
        self.hmac_key = platform_hmac_key()
        self._anonymous_consumer: dict[str, Any] | None = None  # this instance lives for one snapshot
        # Keys found valid under this snapshot, as Kong's key-auth caches a key's credential: a caller's
        # next calls skip the HMAC (18 us of the gateway's CPU per call under load). Only valid keys
        # enter, so invalid guesses cannot grow it; a revocation or new key is a new snapshot, hence a
        # new instance and an empty memory; expiry is still checked on every call.
        self._verified: dict[str, Found] = {}
        if config["failure_limit"] < 0 or config["failure_window"] < 1:
            raise InvalidInput("key-auth: failure_limit must be 0 or more, failure_window 1 second or more")
        self.guard = Guard(config["failure_limit"], config["failure_window"])

    async def access(self, kong: Any) -> None:
        if not self.run_on_preflight and kong.request.get_method() == "OPTIONS":
            return
        if self.anonymous is not None and kong.client.get_credential():
            return  # logical OR (Kong): another plugin authenticated this request already
        ip = kong.client.get_forwarded_ip() if self.guard.enabled else ""
        blocked = self.guard.blocked(ip) if self.guard.enabled else None
        if blocked is not None:
            kong.response.error(429, ERR_TOO_MANY_FAILURES, {"Retry-After": blocked.retry_after})
            return
        key, error = self._find_key(kong)
        if error is None and key is None:
            error = ERR_NO_API_KEY
        if error is None:
            assert key is not None
            verified = self._verified.get(key)
            if verified is not None and (
                verified[1].get("expires_at") is None or not is_expired(verified[1], datetime.now(UTC))
            ):
                self._authenticate(kong, *verified)
                return
            checked = check_key(key, hmac_key=self.hmac_key, find=kong.agora.find_credential)
            if checked.outcome is Outcome.VALID:
                assert checked.consumer is not None and checked.credential is not None
                if len(self._verified) >= VERIFIED_LIMIT:
                    self._verified.clear()
                self._verified[key] = (checked.consumer, checked.credential)
                self._authenticate(kong, checked.consumer, checked.credential)
                return
            error = ERR_EXPIRED_KEY if checked.outcome is Outcome.EXPIRED else ERR_INVALID_AUTH_CRED
            if checked.outcome is Outcome.INVALID and self.guard.enabled:
                service = (kong.router.get_service() or {}).get("name") or "-"
                refused = await self.guard.failed(ip, key, str(service))
                if refused is not None:
                    kong.response.error(429, ERR_TOO_MANY_FAILURES, {"Retry-After": refused.retry_after})
                    return
        if self.anonymous is None:
            kong.response.error(401, error, {"WWW-Authenticate": self.challenge})
            return
        consumer = self._anonymous_consumer or kong.agora.find_consumer(self.anonymous)
        if consumer is None:
            kong.log.err(ERR_NO_ANONYMOUS.format(self.anonymous))
            kong.response.error(500, "An unexpected error occurred")
            return
        self._anonymous_consumer = consumer
        self._authenticate(kong, consumer, None)

    def _find_key(self, kong: Any) -> tuple[str | None, str | None]:
        """(key, None), (None, an error), or (None, None) when no key was sent."""
        headers = kong.request.get_headers() if self.in_header else {}
        query = kong.request.get_query() if self.in_query else {}
        for name in self.key_names:
            for source, values in (("header", headers), ("query", query)):
                value = values.get(name.lower() if source == "header" else name)
                if isinstance(value, list):
                    return None, ERR_DUPLICATE_API_KEY
                if value:
                    if self.hide_credentials:
                        self._hide(kong, name)
                    return value, None
        return None, None

    def _hide(self, kong: Any, name: str) -> None:
        """Kong's hide_credentials: the header and the query argument `name`, wherever the key was."""
        kong.service.request.clear_header(name)
        raw = kong.request.get_raw_query()
        if not raw:
            return  # most calls: the key came in a header and there is no query
        # The other parameters keep their exact encoding: only the pairs named `name` are dropped.
        parts = [part for part in raw.split("&") if part]
        kept = [part for part in parts if unquote_plus(part.split("=", 1)[0]) != name]
        if len(kept) != len(parts):
            kong.service.request.set_raw_query("&".join(kept))

    def _authenticate(self, kong: Any, consumer: dict[str, Any], credential: dict[str, Any] | None) -> None:
        kong.client.authenticate(consumer, credential)
        headers = identity_headers(consumer, credential)
        upstream = kong.service.request
        upstream.set_headers({name: value for name, value in headers.items() if value is not None})
        for name, value in headers.items():
            if value is None:
                upstream.clear_header(name)
        if consumer.get("plan"):
            kong.ctx.shared[CTX_PLAN] = consumer["plan"]

    def fast_path(self, host: Host, service: Mapping[str, Any]) -> FastPath | None:
        """The common case without the PDK: one key, in a header, that this instance has verified
        before and that has not expired; anything else is the PDK phase's (plugins/fast.py)."""
        if not self.in_header:
            return None
        try:
            names = tuple(
                (name.lower().encode("latin-1"), host.upstream_headers({name: None}))
                for name in self.key_names
            )
        except UnicodeEncodeError:
            return None  # such a name matches no header line
        verified, hide, guarded = self._verified, self.hide_credentials, self.guard.enabled
        anonymous, in_query, any_method = self.anonymous is not None, self.in_query, self.run_on_preflight
        # key as sent -> (consumer, credential, the upstream headers saying who calls), for keys of
        # `_verified` (only valid keys enter, so guesses cannot grow it)
        known: dict[bytes, tuple[dict[str, Any], dict[str, Any], UpstreamHeaders]] = {}

        def access(state: State) -> bool:
            if not any_method and host.method(state) == "OPTIONS":
                return False
            if anonymous and host.credential(state):
                return False
            if guarded and any_blocked():
                return False
            if (in_query or hide) and host.raw_query(state):
                return False
            lines = host.header_lines(state)
            if len(lines) > MAX_HEADERS:
                return False  # kong.request.get_headers() would not see them all
            for wanted, cleared in names:
                found = None
                for line, value in lines:
                    if line == wanted:
                        if found is not None:
                            return False  # a key sent twice
                        found = value
                if found is None:
                    continue
                caller = known.get(found)
                if caller is None:
                    pair = verified.get(found.decode("latin-1")) if found else None
                    if pair is None:
                        return False  # not verified yet (or not valid, or empty): the PDK checks it
                    if len(known) >= VERIFIED_LIMIT:
                        known.clear()
                    caller = known[found] = (*pair, host.upstream_headers(identity_headers(*pair)))
                consumer, credential, identity = caller
                if credential.get("expires_at") is not None and is_expired(credential, datetime.now(UTC)):
                    return False
                if hide:
                    host.set_upstream_headers(state, cleared)
                host.authenticate(state, consumer, credential)
                host.set_upstream_headers(state, identity)
                if consumer.get("plan"):
                    host.shared(state)[CTX_PLAN] = consumer["plan"]
                return True
            return False

        return FastPath(access=access)


def identity_headers(consumer: dict[str, Any], credential: dict[str, Any] | None) -> dict[str, str | None]:
    """What the upstream is told of the caller (None: the header is cleared, the client's copy too)."""
    if credential is not None:
        return {
            CONSUMER_CUSTOM_ID: None,
            CONSUMER_ID: str(consumer.get("id", "")),
            CONSUMER_USERNAME: str(consumer.get("username", "")),
            CREDENTIAL_IDENTIFIER: str(credential.get("id", "")),
            ANONYMOUS: None,
        }
    return {
        CONSUMER_CUSTOM_ID: None,
        CONSUMER_ID: str(consumer.get("id", "")),
        CONSUMER_USERNAME: str(consumer.get("username", "")),
        CREDENTIAL_IDENTIFIER: None,
        ANONYMOUS: "true",
    }
