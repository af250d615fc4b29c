"""Pseudonyms of data subjects: a keyed hash of a person's identifier, so the log of accesses to personal
data (issue 16) never holds a national identifier in clear.

`HMAC-SHA256(key, identifier)` in hex. Without the key nobody can test a guessed identifier against the
log (a plain hash of a 13-digit number would be reversed by enumeration in minutes). The key ring comes
from `AGORA_PSEUDONYM_KEYS`, `id:hex,id:hex,...`, the first one current: new accesses are recorded under
it, and a citizen's accesses are looked up under every key still listed, so rotating the key (put a new
one first, keep the old ones until the rows they made are past retention) loses nobody's history
(docs/citizens.md, "Rotating the pseudonymisation key"). Unset, one key `k0` is derived from the
platform's HMAC key (AGORA_HMAC_KEY or the generated state secret), which suits one machine.

Only national numbers are normalised before hashing (`normalise_identifier`), so that
`1 85 05 75 123 456 78` in a path and `1850575123456-78` in an ID token's claim are the same person: a
value is a national number when, without its spaces, dots and dashes, it is all digits, or digits with
`2A` or `2B` (France's Corsican departments) in positions 6 and 7; it is then hashed without those
separators, its letters upper-cased. Any other value (an OIDC `sub`, which is case-sensitive, an email,
an opaque reference) is hashed exactly as given, only trimmed of surrounding whitespace: changing its
case or dropping its punctuation could give two people one pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from agora.errors import InvalidInput

__all__ = ["KEYS_ENV", "KeyRing", "key_ring", "normalise_identifier"]

KEYS_ENV = "AGORA_PSEUDONYM_KEYS"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_SEPARATORS = re.compile(r"[\s.\-]+")
# Digits only, or France's NIR with a Corsican department (2A, 2B) in positions 6-7. ASCII digits only:
# `\d` would take other scripts' digits, which no register writes.
_NATIONAL_NUMBER = re.compile(r"[0-9]+|[0-9]{5}2[ABab][0-9]*")


def normalise_identifier(value: str) -> str:
    """What is hashed: a national number without spaces, dots and dashes (letters upper-cased); any
    other value as given, trimmed of surrounding whitespace (see the module's docstring)."""
    compact = _SEPARATORS.sub("", value)
    if not compact:
        return ""  # nothing but separators: nobody (lookups refuse it)
    if _NATIONAL_NUMBER.fullmatch(compact):
        return compact.upper()
    return value.strip()


@dataclass(frozen=True, slots=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (key id, secret), the current one first

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def pseudonym(self, identifier: str) -> tuple[str, str]:
        """(key id, pseudonym) of `identifier` under the current key: what the gateway records."""
        key_id, secret = self.keys[0]
        data = normalise_identifier(identifier).encode()
        return key_id, hmac.new(secret, data, hashlib.sha256).hexdigest()

    def all_pseudonyms(self, identifier: str) -> list[tuple[str, str]]:
        """Under every known key: what a citizen's page looks up, so a rotation loses no history."""
        data = normalise_identifier(identifier).encode()
        return [(key_id, hmac.new(secret, data, hashlib.sha256).hexdigest()) for key_id, secret in self.keys]

    @classmethod
    def parse(cls, value: str) -> KeyRing:
        keys: list[tuple[str, bytes]] = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            key_id, sep, secret_hex = item.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise InvalidInput(f"{KEYS_ENV}: each key is id:hex, with an id of letters, digits, _ . -")
            try:
                secret = bytes.fromhex(secret_hex)
            except ValueError:
                raise InvalidInput(f"{KEYS_ENV}: key {key_id!r} is not hexadecimal") from None
            if len(secret) < 32:
                raise InvalidInput(f"{KEYS_ENV}: key {key_id!r} is shorter than 32 bytes")
            if any(key_id == known for known, _ in keys):
                raise InvalidInput(f"{KEYS_ENV}: key id {key_id!r} is listed twice")
            keys.append((key_id, secret))
        if not keys:
            raise InvalidInput(f"{KEYS_ENV} names no key")
        return cls(tuple(keys))

    @classmethod
    def derived(cls, platform_hmac_key: bytes) -> KeyRing:
        secret = hmac.new(platform_hmac_key, b"agora pseudonyms v1", hashlib.sha256).digest()
        return cls((("k0", secret),))


def key_ring(env: Mapping[str, str] | None = None, *, platform_hmac_key: bytes | None = None) -> KeyRing:
    """The platform's key ring, from the environment (cached per value: read on every snapshot).
    `platform_hmac_key`: the caller's settings' key, for the derived ring when no key is configured
    (a process that holds its settings need not load them again)."""
    env = os.environ if env is None else env
    configured = env.get(KEYS_ENV, "").strip()
    if configured:
        return _parsed(configured)
    if platform_hmac_key is not None:
        return _derived(platform_hmac_key)
    from agora.settings import load_settings  # the state secret, only when no key is configured

    return _derived(load_settings().hmac_key)


@lru_cache(maxsize=4)
def _parsed(value: str) -> KeyRing:
    return KeyRing.parse(value)


@lru_cache(maxsize=4)
def _derived(platform_hmac_key: bytes) -> KeyRing:
    return KeyRing.derived(platform_hmac_key)
