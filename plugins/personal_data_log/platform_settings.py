"""The platform settings the plugin needs: the pseudonym key ring and the registry's database URL.

A plugin is built for every route that logs, on every snapshot load, and `load_settings()` reads the
state directory's secrets file when AGORA_HMAC_KEY is unset. The settings are therefore read once per
process for each value of the variables they come from: a snapshot reload costs no file read, and a
changed environment (a test's, or a process that sets it before loading) is still seen.
"""

from __future__ import annotations

import os
from functools import lru_cache

from agora.pseudonyms import KEYS_ENV, KeyRing, key_ring
from agora.settings import Settings, load_settings

__all__ = ["database_url", "ring"]

# What `load_settings()` derives the HMAC key and the database URL from (the state directory's default
# is under XDG_STATE_HOME or HOME; the database's, under the working directory).
_SOURCES = ("AGORA_HMAC_KEY", "AGORA_STATE_DIR", "XDG_STATE_HOME", "HOME", "AGORA_DATABASE_URL")


@lru_cache(maxsize=4)
def _settings(_sources: tuple[str | None, ...], _cwd: str) -> Settings:
    return load_settings()


def _current() -> Settings:
    return _settings(tuple(os.environ.get(name) for name in _SOURCES), os.getcwd())


def ring() -> KeyRing:
    """The platform's key ring (agora/pseudonyms.py): AGORA_PSEUDONYM_KEYS when set (parsed once per
    value there), else derived from the platform's HMAC key."""
    if os.environ.get(KEYS_ENV, "").strip():
        return key_ring()
    return key_ring(platform_hmac_key=_current().hmac_key)


def database_url() -> str:
    return _current().database_url
