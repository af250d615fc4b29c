"""The exported post-function adds the draft RateLimit fields exactly as Agora's gateway writes them.

The Lua (registry/compile/kong_ratelimit_fields.lua) runs here in LuaJIT 2.1, Kong's Lua, with a
`kong.response` holding the headers Kong's rate-limiting set and `ngx.time()` pinned; what it writes
is compared with the gateway's own rendering (plugins/rate_limiting/handler.py) for the same counts
and instant, across minute, month and year ends and a leap day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from lupa import luajit21

from plugins.rate_limiting.handler import _policy_item, _state_item
from plugins.rate_limiting.windows import _window
from registry.compile.kong import to_kong
from registry.compile.kong_ratelimit import LUA_FILE
from tests.registry.compile.test_kong import snapshot

LIMITS = {"second": 5, "minute": 100, "hour": 1000, "day": 10000, "month": 300000}


def run_lua(headers: dict[str, str], now: int) -> dict[str, str]:
    lua = luajit21.LuaRuntime(unpack_returned_tuples=True)
    written: dict[str, str] = {}
    response = lua.table_from(
        {
            "get_header": lambda name: headers.get(name),
            "set_header": lambda name, value: written.__setitem__(name, value),
        }
    )
    lua.globals().kong = lua.table_from({"response": response})
    lua.globals().ngx = lua.table_from({"time": lambda: now})
    per_response = lua.execute(LUA_FILE.read_text())  # the chunk returns the per-response function
    per_response()
    return written


def gateway_fields(remaining: dict[str, int], now: int) -> dict[str, str]:
    windows = {p: _window(p, now) for p in LIMITS}
    return {
        "RateLimit-Policy": ", ".join(_policy_item(windows[p], limit) for p, limit in LIMITS.items()),
        "RateLimit": ", ".join(
            _state_item(windows[p], remaining[p], max(1, windows[p].end - now)) for p in LIMITS
        ),
    }


def kong_headers(remaining: dict[str, int]) -> dict[str, str]:
    headers = {f"X-RateLimit-Limit-{p.capitalize()}": str(v) for p, v in LIMITS.items()}
    headers |= {f"X-RateLimit-Remaining-{p.capitalize()}": str(v) for p, v in remaining.items()}
    return headers | {"RateLimit-Limit": "5", "RateLimit-Remaining": "4", "RateLimit-Reset": "1"}


@pytest.mark.parametrize(
    "instant",
    [
        "2026-12-04T17:03:41",
        "2026-12-31T23:59:59",  # the last second of a month and a year
        "2027-01-01T00:00:00",
        "2028-02-29T12:00:00",  # a leap day: February has 29 days
        "2100-02-28T23:00:00",  # 2100 is not a leap year
        "2026-04-30T10:00:00",  # a 30-day month
    ],
)
def test_the_exported_lua_writes_what_the_gateway_writes(instant: str) -> None:
    now = int(datetime.fromisoformat(instant).replace(tzinfo=UTC).timestamp())
    remaining = {"second": 4, "minute": 57, "hour": 950, "day": 9000, "month": 0}
    assert run_lua(kong_headers(remaining), now) == gateway_fields(remaining, now)


def test_without_rate_limiting_headers_nothing_is_added() -> None:
    assert run_lua({"Content-Type": "application/json"}, 1_764_867_821) == {}


def test_the_export_carries_it_once_globally_and_not_with_agora_s_plugin() -> None:
    config: dict[str, Any] = to_kong(snapshot())
    (fields,) = [p for p in config["plugins"] if p["name"] == "post-function"]
    assert fields["config"] == {"header_filter": [LUA_FILE.read_text()]}
    assert "service" not in fields and "consumer" not in fields
    everywhere = to_kong(snapshot(), python_plugins_everywhere=True)  # agora-rate-limiting writes them
    assert "post-function" not in {p["name"] for p in everywhere["plugins"]}
