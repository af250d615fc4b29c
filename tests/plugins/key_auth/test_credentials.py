"""The key check: prefix lookup, digest comparison in constant time, expiry at request time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from plugins.key_auth.credentials import Outcome, check_key, is_expired
from tests.plugins.helpers import HMAC_KEY, credential

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def lookup(*entries: dict[str, Any]) -> Any:
    table = {e["prefix"]: ({"id": "app-1", "username": "acme"}, e) for e in entries}
    return table.get


def test_valid_key() -> None:
    key, entry = credential("cred-1")
    checked = check_key(key, hmac_key=HMAC_KEY, find=lookup(entry), now=NOW)
    assert checked.outcome is Outcome.VALID
    assert checked.credential is entry and checked.consumer == {"id": "app-1", "username": "acme"}


def test_invalid_keys_are_indistinguishable() -> None:
    key, entry = credential("cred-1")
    other_key, _ = credential("cred-2")
    wrong_secret = entry["prefix"] + "_" + "A" * 43
    no_digest = {**entry, "digest": ""}
    cases = [
        (wrong_secret, lookup(entry)),
        (other_key, lookup(entry)),  # a well-formed key whose prefix is unknown
        ("not-a-key", lookup(entry)),
        (key, lookup(no_digest)),
        (key, lookup({**entry, "revoked_at": "2024-12-31T00:00:00+00:00"})),
        (key, lookup()),  # empty snapshot
    ]
    for presented, find in cases:
        checked = check_key(presented, hmac_key=HMAC_KEY, find=find, now=NOW)
        assert checked.outcome is Outcome.INVALID and checked.consumer is None
    assert check_key(key, hmac_key=b"another platform key", find=lookup(entry)).outcome is Outcome.INVALID


def test_expiry_is_checked_at_request_time() -> None:
    key, entry = credential("cred-1")
    entry["expires_at"] = "2025-01-01T00:00:00+00:00"
    assert check_key(key, hmac_key=HMAC_KEY, find=lookup(entry), now=NOW).outcome is Outcome.EXPIRED
    before = NOW - timedelta(seconds=1)
    assert check_key(key, hmac_key=HMAC_KEY, find=lookup(entry), now=before).outcome is Outcome.VALID


def test_a_rotated_key_works_until_its_overlap_ends() -> None:
    # Rotation gives the old key an expiry (registry/services/applications.py: rotate_key).
    old, old_entry = credential("old", expires_in=timedelta(hours=1))
    new, new_entry = credential("new")
    find = lookup(old_entry, new_entry)
    for key in (old, new):
        assert check_key(key, hmac_key=HMAC_KEY, find=find).outcome is Outcome.VALID
    later = datetime.now(UTC) + timedelta(hours=1, seconds=1)
    assert check_key(old, hmac_key=HMAC_KEY, find=find, now=later).outcome is Outcome.EXPIRED
    assert check_key(new, hmac_key=HMAC_KEY, find=find, now=later).outcome is Outcome.VALID


def test_is_expired_reads_iso_dates_and_refuses_garbage() -> None:
    assert not is_expired({"expires_at": None}, NOW)
    assert is_expired({"expires_at": "2024-12-31T23:59:59Z"}, NOW)
    assert not is_expired({"expires_at": "2025-01-01T00:00:01"}, NOW)  # naive: UTC
    assert is_expired({"expires_at": "soon"}, NOW)


def test_unknown_prefix_costs_what_a_known_one_costs() -> None:
    """Timing must not tell whether a prefix exists: a miss still computes and compares a digest.
    Skipping that work would make misses about 5x cheaper; the bound leaves room for a busy machine."""
    _, entry = credential("cred-1")
    find = lookup(entry)
    known = entry["prefix"] + "_" + "B" * 43
    unknown = "agora_00000000_" + "B" * 43

    def cost(key: str) -> float:
        started = time.perf_counter_ns()
        for _ in range(200):
            check_key(key, hmac_key=HMAC_KEY, find=find, now=NOW)
        return time.perf_counter_ns() - started

    samples: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(15):  # interleaved, so load on the machine hits both alike
        samples["known"].append(cost(known))
        samples["unknown"].append(cost(unknown))
    ratio = min(samples["unknown"]) / min(samples["known"])
    assert 0.6 < ratio < 1.6, ratio
