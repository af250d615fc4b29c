"""Security headers on every answer of the portal (pure ASGI: the response is changed by wrapping `send`).

The Content Security Policy allows scripts from the portal itself plus the exact inline scripts
mkdocs-material writes (their hashes, listed by the build), never `'unsafe-inline'` scripts. Styles
allow inline (Swagger UI and Material set style attributes). The console may call the gateway.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from devportal.build.csp import CSP_FILE, read_hashes
from devportal.web.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "content_security_policy"]


def _origin(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(script_hashes: list[str], *, gateway_url: str, oidc_issuer: str | None) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    forms = " ".join(filter(None, ["'self'", _origin(oidc_issuer)]))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src 'self' {_origin(gateway_url)}".strip(),
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {forms}",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, site_dir: Path, gateway_url: str, oidc_issuer: str | None) -> None:
        self.app = app
        self.site_dir = site_dir
        self.gateway_url = gateway_url
        self.oidc_issuer = oidc_issuer
        self._cached: tuple[float, bytes] = (-1.0, b"")

    def _csp(self) -> bytes:
        # The site is rebuilt while the server runs: re-read the hashes when the file changes.
        try:
            mtime = (self.site_dir / CSP_FILE).stat().st_mtime
        except OSError:
            mtime = 0.0
        if mtime != self._cached[0]:
            policy = content_security_policy(
                read_hashes(self.site_dir), gateway_url=self.gateway_url, oidc_issuer=self.oidc_issuer
            )
            self._cached = (mtime, policy.encode())
        return self._cached[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self._csp()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                # The portal's CSP always joins (browsers enforce every policy: a response's own, like
                # the relay's sandbox, only narrows it); the other headers are added when absent.
                headers.append((b"content-security-policy", csp))
                headers += [
                    (name, value)
                    for name, value in (
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"strict-origin-when-cross-origin"),
                        (b"x-frame-options", b"DENY"),
                        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                        (b"cross-origin-opener-policy", b"same-origin"),
                    )
                    if name not in present
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
