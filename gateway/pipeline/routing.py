"""Routing rules: refuses paths that try to escape their API; the pipeline's entry then finds the
operation in the current route table (routes.py). Unknown path: 404; known path with another
method: 405 with `Allow`. A retired version is let through whatever the path, for `lifecycle` to
answer 410.

A CORS preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`) at a path that declares
no OPTIONS is routed to the operation it asks about, so that operation's plugins (cors) can answer
it; if none does, the plugin runner answers the 405 it would have had.
"""

from __future__ import annotations

from urllib.parse import unquote

from gateway.engine.http import Headers
from gateway.errors import BadRequest
from gateway.pipeline.routes import Match, RouteTable

__all__ = ["check_path", "preflight_match"]


def check_path(raw: str) -> None:
    """Refuses dot segments (also percent-encoded), encoded separators (`%2F`, `%5C`) and NUL bytes.

    An encoded separator would be matched as part of one path parameter here (`/companies/X%2Fofficers`
    is `{company_id}` = "X/officers") while the upstream decodes it into another operation
    (`/companies/X/officers`), whose plugins never ran: refused, as Apache's `AllowEncodedSlashes Off`
    does. Plain paths cost one scan."""
    if "." not in raw and "%" not in raw and "\\" not in raw:
        return
    if "%" in raw:
        lowered = raw.lower()
        if "%2f" in lowered or "%5c" in lowered:
            raise BadRequest(
                "the path contains an encoded '/' or '\\' (%2F, %5C), which could reach another operation"
            )
        decoded = unquote(raw)
    else:
        decoded = raw
    if "\\" in decoded:
        raise BadRequest("the path contains a '\\', which some upstreams take for a '/'")
    if "\x00" in decoded:
        raise BadRequest("the path contains a NUL byte")
    for segment in decoded.split("/"):
        if segment in (".", ".."):
            raise BadRequest("the path contains a '.' or '..' segment")


def preflight_match(table: RouteTable, headers: Headers, path: str) -> Match | None:
    """The operation a CORS preflight asks about, or None if it is no preflight or asks for nothing here."""
    origin = requested = None
    for name, value in headers:
        if name == b"origin":
            origin = value
        elif name == b"access-control-request-method":
            requested = value
    if origin is None or requested is None:
        return None
    match = table.lookup(requested.decode("latin-1").strip().upper(), path)
    return match if match is not None and match.route is not None else None
