"""The structured fields of draft-ietf-httpapi-ratelimit-headers (-09/-10) beside Kong's headers:
`RateLimit-Policy` names one quota policy per limited period (`q` quota, `w` window seconds) and
`RateLimit` gives each one's state (`r` remaining, `t` seconds until it changes), as sf-lists."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from gateway.pipeline.plugin_host import apply_schema
from plugins.rate_limiting import handler
from tests.plugins.fake_kong import Answered, FakeKong

# sf-list of sf-strings with integer parameters (RFC 9651), as the draft's fields use them.
ITEM = r'"([a-z]+)"((?:;[a-z]+=\d+)+)'


def parse(field: str) -> dict[str, dict[str, int]]:
    items = [part.strip() for part in field.split(",")]
    out: dict[str, dict[str, int]] = {}
    for item in items:
        match = re.fullmatch(ITEM, item)
        assert match, f"not an sf-string item with integer parameters: {item!r}"
        out[match.group(1)] = {k: int(v) for k, v in re.findall(r";([a-z]+)=(\d+)", match.group(2))}
    return out


def calls(n: int, service: str, **config: Any) -> list[dict[str, Any]]:
    """`n` calls from one client; counters are per service, so each test names its own."""
    if time.time() % 60 > 58:  # the calls must not straddle a minute boundary
        time.sleep(60 - time.time() % 60 + 0.05)
    plugin = handler.Plugin(
        apply_schema(handler.Schema, {"policy": "local", "limit_by": "ip", **config}, "rl")
    )
    answers = []
    for _ in range(n):
        kong = FakeKong()
        kong.router.get_service = lambda: {"name": service}
        try:
            plugin.access(kong)
        except Answered as answered:
            answers.append({"status": answered.status, **kong.response_headers, **answered.headers})
        else:
            answers.append({"status": 200, **kong.response_headers})
    return answers


@pytest.mark.parametrize("window", ["fixed", "sliding"])
def test_policy_and_state_fields_for_every_limited_period(window: str) -> None:
    first, second, third, refused = calls(4, f"gov.{window}.v1", minute=3, day=1000, window=window)
    assert parse(first["RateLimit-Policy"]) == {"minute": {"q": 3, "w": 60}, "day": {"q": 1000, "w": 86400}}
    assert first["RateLimit-Policy"] == refused["RateLimit-Policy"]  # stable across responses
    for answer, left in ((first, 2), (second, 1), (third, 0)):
        state = parse(answer["RateLimit"])
        assert state["minute"]["r"] == left and state["day"]["r"] == 997 + left
        # With nothing left in a sliding window, `t` runs until the next call fits: past the window's end,
        # until the count carried into the next window has faded enough (at most one more window).
        longest = 60 if window == "fixed" or left else 120
        assert 1 <= state["minute"]["t"] <= longest and 1 <= state["day"]["t"] <= 86400
    assert refused["status"] == 429 and parse(refused["RateLimit"])["minute"]["r"] == 0
    # Kong's headers stay, for clients that read them.
    assert (first["X-RateLimit-Limit-Minute"], first["X-RateLimit-Remaining-Day"]) == (3, 999)
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == (3, 2)
    assert parse(first["RateLimit"])["minute"]["t"] == first["RateLimit-Reset"]


def test_hide_client_headers_hides_the_draft_fields_too() -> None:
    (answer,) = calls(1, "gov.hidden.v1", minute=3, hide_client_headers=True)
    assert not [h for h in answer if h.lower().startswith(("ratelimit", "x-ratelimit"))]
