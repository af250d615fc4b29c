"""The bare Python reverse proxy the benchmarks issue measures Agora against, as a yardstick: raw ASGI on
uvicorn (uvloop, httptools) and one pooled aiohttp session, forwarding every request to one upstream.
No routing, no plugins, no request id, no metrics, no error documents: the least a Python proxy on this
stack can do per request, hence the ceiling of any gateway built on it.

    python -m loadtests.forwarder --port 8500 --upstream http://127.0.0.1:8600
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import aiohttp
import uvicorn

__all__ = ["Forwarder", "main"]

# Hop-by-hop headers (RFC 9110 7.6.1) and the host, which aiohttp sets for the upstream.
_DROPPED = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
     b"host"}
)  # fmt: skip
_DROPPED_TEXT = frozenset(name.decode() for name in _DROPPED) | {"content-length"}

Scope = dict[str, Any]
Message = dict[str, Any]


class Forwarder:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        assert self.session is not None
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        target = self.upstream + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in _DROPPED
        ]
        async with self.session.request(
            scope["method"], target, headers=headers, data=body or None, allow_redirects=False
        ) as answer:
            kept = [(k, v) for k, v in answer.raw_headers if k.decode("latin-1").lower() not in _DROPPED_TEXT]
            await send({"type": "http.response.start", "status": answer.status, "headers": kept})
            async for chunk in answer.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # No automatic decompression, no cookie jar: a proxy passes bytes through.
                self.session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=64), auto_decompress=False,
                    cookie_jar=aiohttp.DummyCookieJar(),
                )  # fmt: skip
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.forwarder", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL every request is forwarded to")
    args = parser.parse_args(argv)
    uvicorn.run(
        Forwarder(args.upstream), host=args.host, port=args.port, loop="uvloop", http="httptools",
        lifespan="on", access_log=False, log_level="warning",
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
