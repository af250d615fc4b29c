"""Which relayed content types the portal serves as they are, and which it makes inert."""

from __future__ import annotations

import pytest

from devportal.web.relay_answer import SANDBOX_POLICY, relayed_headers, safe_content_type


@pytest.mark.parametrize(
    ("upstream", "served", "attachment"),
    [
        ("application/json", "application/json", False),
        ("application/problem+json", "application/problem+json", False),
        ("application/vnd.api+json; charset=utf-8", "application/vnd.api+json; charset=utf-8", False),
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8", False),
        ("image/png", "image/png", False),
        ("TEXT/HTML; charset=utf-8", "text/plain; charset=utf-8", False),
        ("image/svg+xml", "text/plain", False),
        ("application/xhtml+xml", "text/plain", False),
        ("application/xml", "text/plain", False),
        ("application/javascript", "text/plain", False),
        ("text/javascript", "text/plain", False),
        ("application/pdf", "application/octet-stream", True),
        ("multipart/x-mixed-replace; boundary=x", "application/octet-stream", True),
        (None, "application/octet-stream", True),
    ],
)
def test_safe_content_type(upstream: str | None, served: str, attachment: bool) -> None:
    assert safe_content_type(upstream) == (served, attachment)


def test_relayed_headers_drop_what_could_act_on_the_portal() -> None:
    kept = dict(
        relayed_headers(
            [
                ("Content-Type", "text/html"),
                ("Location", "https://evil.example/"),
                ("Refresh", "0; url=https://evil.example/"),
                ("Set-Cookie", "agora_portal=x"),
                ("Content-Security-Policy", "script-src *"),
                ("X-Request-Id", "abc"),
            ]
        )
    )
    assert kept == {
        "x-request-id": "abc",
        "content-type": "text/plain",
        "content-security-policy": SANDBOX_POLICY,
        "x-content-type-options": "nosniff",
    }
