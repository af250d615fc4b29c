"""A presented key checked against the snapshot's credentials: found by its public prefix, then its
HMAC-SHA256 digest compared in constant time (docs/snapshot.md: keys are `agora_<8 hex>_<secret>`).

The snapshot is compiled before keys expire, so expiry is checked here, at request time; revoked keys
are left out of the snapshot by the registry (and refused here too should one carry `revoked_at`). A
rotated key is an ordinary credential whose `expires_at` ends its overlap period.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from registry.secrets import prefix_of

__all__ = ["Checked", "Found", "Outcome", "check_key", "is_expired"]

Found = tuple[dict[str, Any], dict[str, Any]]
# Compared against when the prefix is unknown, so a miss costs the same HMAC and comparison as a hit.
_NO_DIGEST = "0" * 64


class Outcome(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"  # unknown prefix, wrong secret, or revoked: indistinguishable to the caller
    EXPIRED = "expired"  # the right key, past its expiry (or the end of its rotation overlap)


class Checked(NamedTuple):
    """A tuple: one is made for every call with a key (a frozen dataclass sets its fields one by one)."""

    outcome: Outcome
    consumer: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None


def is_expired(credential: dict[str, Any], now: datetime) -> bool:
    value = credential.get("expires_at")
    if value is None:
        return False
    try:
        ends = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return True  # an expiry we cannot read is not a licence to pass
    return (ends if ends.tzinfo else ends.replace(tzinfo=UTC)) <= now


@lru_cache(maxsize=8)
def _keyed(hmac_key: bytes) -> hmac.HMAC:
    """The platform key's HMAC state, prepared once: a check copies it (registry.secrets.digest's value
    at half its cost, which builds the state again for every key)."""
    return hmac.new(hmac_key, digestmod=hashlib.sha256)


def _digest(hmac_key: bytes, key: str) -> str:
    keyed = _keyed(hmac_key).copy()
    keyed.update(key.encode())
    return keyed.hexdigest()


def check_key(
    key: str, *, hmac_key: bytes, find: Callable[[str], Found | None], now: datetime | None = None
) -> Checked:
    prefix = prefix_of(key)
    found = find(prefix) if prefix else None
    expected = str(found[1].get("digest") or "") if found is not None else ""
    valid = hmac.compare_digest(_digest(hmac_key, key), expected or _NO_DIGEST)
    if found is None or not expected or not valid or found[1].get("revoked_at"):
        return Checked(Outcome.INVALID)
    consumer, credential = found
    if credential.get("expires_at") is not None and is_expired(credential, now or datetime.now(UTC)):
        return Checked(Outcome.EXPIRED, consumer, credential)
    return Checked(Outcome.VALID, consumer, credential)
