"""What the relay lets back from the gateway: the portal's origin must never render an agency's content.

An agency controls what its upstream (or its spec's sandbox examples) answers. Served as is on the
portal's origin, an HTML answer would run the agency's script there (the portal's CSP allows
`script-src 'self'`, and the relay *is* 'self'), read a signed-in developer's CSRF token and act as
them. So every relayed answer:

- keeps its `Content-Type` only when browsers never run it (JSON, plain text, CSV, raster images);
  other text (HTML, SVG, XML, JavaScript...) becomes `text/plain`, anything else
  `application/octet-stream` with `Content-Disposition: attachment`;
- carries `Content-Security-Policy: sandbox; default-src 'none'` (no script, an opaque origin even if a
  browser renders it) and `X-Content-Type-Options: nosniff`;
- loses `Location` (no open redirect through the portal), cookies and hop-by-hop headers.

JSON and text keep no `Content-Disposition: attachment`: Swagger UI shows such answers as a download
link instead of the body, and the sandbox CSP already makes them inert.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SANDBOX_POLICY", "relayed_headers", "safe_content_type"]

SANDBOX_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
_DROPPED = {
    "connection",
    "content-disposition",
    "content-encoding",
    "content-length",
    "content-security-policy",
    "content-security-policy-report-only",
    "keep-alive",
    "location",
    "link",
    "refresh",
    "set-cookie",
    "set-cookie2",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "x-content-type-options",
}
_INERT_TYPES = {
    "application/json",
    "application/problem+json",
    "text/plain",
    "text/csv",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
}


def safe_content_type(value: str | None) -> tuple[str, bool]:
    """(the type to serve, whether it must be an attachment). Parameters (charset) are kept."""
    if not value:
        return "application/octet-stream", True
    media, _, params = value.partition(";")
    media = media.strip().lower()
    suffix = f";{params}" if params.strip() else ""
    if media in _INERT_TYPES or (media.startswith("application/") and media.endswith("+json")):
        return media + suffix, False
    if media.startswith("text/") or "xml" in media or "script" in media:
        return "text/plain" + suffix, False
    return "application/octet-stream", True


def relayed_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The answer's headers as the portal serves them (see the module docstring)."""
    kept: list[tuple[str, str]] = []
    content_type: str | None = None
    for name, value in upstream:
        lower = name.lower()
        if lower == "content-type":
            content_type = value
        elif lower not in _DROPPED:
            kept.append((lower, value))
    served, attachment = safe_content_type(content_type)
    kept.append(("content-type", served))
    if attachment:
        kept.append(("content-disposition", "attachment"))
    kept.append(("content-security-policy", SANDBOX_POLICY))
    kept.append(("x-content-type-options", "nosniff"))
    return kept
