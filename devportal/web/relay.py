"""The console's way to the gateway: `/gateway/{agency}/{api}/v{major}/...` on the portal's own origin
is forwarded to AGORA_GATEWAY_URL, so Swagger UI's "Try it out" works without the gateway answering
CORS preflights. Only the request line, the body and a few safe headers go through: never the portal's
cookies, so the developer's portal session cannot reach an agency's upstream."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agora.errors import Unavailable
from devportal.web.context import context

__all__ = ["FORWARDED_REQUEST_HEADERS", "routes"]

FORWARDED_REQUEST_HEADERS = (
    "accept",
    "accept-language",
    "apikey",
    "authorization",
    "content-type",
    "x-request-id",
)
_DROPPED_RESPONSE_HEADERS = {
    "connection",
    "content-encoding",
    "content-length",
    "set-cookie",
    "transfer-encoding",
}
MAX_BODY_BYTES = 10 * 1024 * 1024


async def relay(request: Request) -> Response:
    ctx = context(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return Response("request body too large for the console", status_code=413)
    url = ctx.settings.gateway_url.rstrip("/") + "/" + request.path_params["path"]
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
    async with httpx.AsyncClient(transport=ctx.relay_transport, timeout=30.0) as client:
        try:
            answer = await client.request(
                request.method,
                url,
                params=list(request.query_params.multi_items()),
                headers=headers,
                content=body,
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"the gateway did not answer: {exc}") from exc
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


routes = [
    Route("/gateway/{path:path}", relay, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
]
