"""Secrets shown once: API keys and admin tokens. Only a lookup prefix and an HMAC digest are kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["NewSecret", "digest", "new_secret", "prefix_of", "verify"]


class NewSecret:
    """A freshly generated secret: `value` goes to its owner once; `prefix` and `digest` are stored."""

    __slots__ = ("digest", "prefix", "value")

    def __init__(self, value: str, prefix: str, digest: str) -> None:
        self.value = value
        self.prefix = prefix
        self.digest = digest


def digest(hmac_key: bytes, value: str) -> str:
    return hmac.new(hmac_key, value.encode(), hashlib.sha256).hexdigest()


def new_secret(hmac_key: bytes, kind: str = "agora") -> NewSecret:
    # The prefix is random too, so it can be a unique lookup key without revealing the secret part.
    prefix = f"{kind}_{secrets.token_hex(4)}"
    value = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewSecret(value, prefix, digest(hmac_key, value))


def prefix_of(value: str) -> str | None:
    # The secret part is urlsafe base64 and may itself contain "_": split from the left.
    parts = value.split("_", 2)
    return f"{parts[0]}_{parts[1]}" if len(parts) == 3 and len(parts[1]) == 8 else None


def verify(hmac_key: bytes, value: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(hmac_key, value), stored_digest)
