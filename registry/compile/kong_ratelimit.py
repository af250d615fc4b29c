"""The draft RateLimit fields under Kong: a global `post-function` adding `RateLimit-Policy` and
`RateLimit` (draft-ietf-httpapi-ratelimit-headers, structured fields) to every response that carries
Kong's rate-limiting headers, as Agora's gateway sends them (plugins/rate_limiting/handler.py).

Kong's bundled rate-limiting sends only `X-RateLimit-*` and `RateLimit-Limit/Remaining/Reset`, and
response-transformer can only add fixed values, while `RateLimit` changes on every call: a short Lua
function (kong_ratelimit_fields.lua) reads Kong's headers in the header_filter phase and writes the
two fields. It needs Kong's default `untrusted_lua = sandbox`, as the route templates do.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["LUA_FILE", "ratelimit_fields_plugin"]

LUA_FILE = Path(__file__).with_name("kong_ratelimit_fields.lua")


@cache
def _lua() -> str:
    return LUA_FILE.read_text()


def ratelimit_fields_plugin() -> dict[str, Any]:
    return {
        "name": "post-function",
        "config": {"header_filter": [_lua()]},
        "tags": ["agora", "agora-ratelimit-fields"],
    }
