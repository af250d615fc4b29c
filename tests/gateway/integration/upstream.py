"""A real upstream for the gateway's integration tests: `python upstream.py PORT`.

ANY  /echo/...        JSON: method, path, raw_path, query, headers, body length and sha256
POST /upload          counts the streamed body: {"bytes": n}
GET  /download?size=N N zero bytes, streamed in 1 MiB chunks, with Content-Length
GET  /slow?delay=S    answers after S seconds
GET  /hang            never answers; counts calls cancelled by the caller (see /stats)
GET  /hop             a response carrying hop-by-hop headers
GET  /stats           {"cancelled": n, "requests": n}
"""

from __future__ import annotations

import asyncio
import hashlib
import sys

from aiohttp import web

stats = {"cancelled": 0, "requests": 0}
CHUNK = b"\0" * (1024 * 1024)


async def echo(request: web.Request) -> web.Response:
    digest, size = hashlib.sha256(), 0
    async for chunk in request.content.iter_any():
        digest.update(chunk)
        size += len(chunk)
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path,
            "query": request.query_string,
            "headers": [[k, v] for k, v in request.headers.items()],
            "bytes": size,
            "sha256": digest.hexdigest(),
            "port": request.transport.get_extra_info("sockname")[1] if request.transport else None,
        }
    )


async def upload(request: web.Request) -> web.Response:
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
    return web.json_response({"bytes": size})


async def download(request: web.Request) -> web.StreamResponse:
    size = int(request.query.get("size", "0"))
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = size
    await response.prepare(request)
    while size > 0:
        await response.write(CHUNK[: min(size, len(CHUNK))])
        size -= len(CHUNK)
    await response.write_eof()
    return response


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("delay", "1")))
    return web.json_response({"slow": True})


async def hang(request: web.Request) -> web.Response:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        stats["cancelled"] += 1
        raise
    return web.Response()


async def hop(request: web.Request) -> web.Response:
    return web.Response(
        text="hop",
        headers={
            "Connection": "X-Private",
            "X-Private": "secret",
            "Keep-Alive": "timeout=5",
            "X-Kept": "yes",
        },
    )


async def get_stats(request: web.Request) -> web.Response:
    return web.json_response(stats)


@web.middleware
async def count(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
    if request.path != "/stats":
        stats["requests"] += 1
    return await handler(request)


def make_app() -> web.Application:
    # handler_cancellation: a caller that goes away cancels the handler, so /hang can count it.
    app = web.Application(middlewares=[count], client_max_size=1024**3)
    app.router.add_route("*", "/echo{tail:.*}", echo)
    app.router.add_post("/upload", upload)
    app.router.add_get("/download", download)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hang", hang)
    app.router.add_get("/hop", hop)
    app.router.add_get("/stats", get_stats)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, handler_cancellation=True)
