"""The console's way to the gateway: `/gateway/{agency}/{api}/v{major}/...` on the portal's own origin
is forwarded to AGORA_GATEWAY_URL, so Swagger UI's "Try it out" works without the gateway answering
CORS preflights. Only the request line, the body and a few safe headers go through: never the portal's
cookies, so the developer's portal session cannot reach an agency's upstream.

The relay answers the console's fetches only, for the operations of published specs
(`relay_guard`), and serves what comes back so that the portal's origin never renders it
(`relay_answer`). The request body is streamed to the gateway and counted on the way: a
`Content-Length` over the limit is refused before a byte is read, a longer chunked body as soon as it
passes the limit, so a large upload never sits in the portal's memory. The portal's access log keeps a
relayed path up to its API's prefix only (agora/access_log.py): an operation's path may name a person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from agora.errors import AgoraError, InvalidInput, Unavailable
from devportal.web.context import context, in_thread
from devportal.web.relay_answer import relayed_headers
from devportal.web.relay_guard import check_console_fetch
from registry.admin.problems import problem

__all__ = ["FORWARDED_REQUEST_HEADERS", "MAX_BODY_BYTES", "PREFIX", "BodyTooLarge", "routes"]

FORWARDED_REQUEST_HEADERS = (
    "accept",
    "accept-language",
    "apikey",
    "authorization",
    "content-type",
    "x-request-id",
)
MAX_BODY_BYTES = 10 * 1024 * 1024
PREFIX = "/gateway"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


class BodyTooLarge(AgoraError):
    status, slug, title = 413, "body-too-large", "Request body too large"


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput("Content-Length is not a number")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the console relays bodies of up to {MAX_BODY_BYTES} bytes, not {length}")
    return length


async def _counted(request: Request) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the console relays bodies of up to {MAX_BODY_BYTES} bytes")
        if chunk:
            yield chunk


def _too_large(exc: BaseException) -> BodyTooLarge | None:
    """httpx may wrap what the body iterator raised."""
    while exc is not None:
        if isinstance(exc, BodyTooLarge):
            return exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


async def relay(request: Request) -> Response:
    try:
        return await _relay(request)
    except AgoraError as exc:  # the console reads problem documents, whatever the Accept header
        return problem(exc.problem(instance=request.url.path))


async def _relay(request: Request) -> Response:
    ctx = context(request)
    check_console_fetch(request.headers)
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1").removeprefix(PREFIX)
    length = _declared_length(request)
    await in_thread(ctx.operations.check, ctx.sessions, request.method, path)
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
    has_body = length is not None or "transfer-encoding" in request.headers
    if length is not None:
        headers["content-length"] = str(length)
    query = request.scope.get("query_string", b"")
    url = httpx.URL(ctx.settings.gateway_url.rstrip("/") + path, query=query)
    client = httpx.AsyncClient(transport=ctx.relay_transport, timeout=30.0)
    try:
        outgoing = client.build_request(
            request.method, url, headers=headers, content=_counted(request) if has_body else None
        )
        answer = await client.send(outgoing, stream=True)
    except Exception as exc:
        await client.aclose()
        too_large = _too_large(exc)
        if too_large is not None:
            raise too_large from None
        if isinstance(exc, httpx.HTTPError):
            raise Unavailable(f"the gateway did not answer: {exc}") from exc
        raise

    async def close() -> None:
        await answer.aclose()
        await client.aclose()

    response = StreamingResponse(
        answer.aiter_bytes(), status_code=answer.status_code, background=BackgroundTask(close)
    )
    response.raw_headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in relayed_headers(answer.headers.multi_items())
    ]
    return response


routes = [Route(PREFIX + "/{path:path}", relay, methods=METHODS)]
