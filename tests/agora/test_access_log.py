"""Access log lines keep neither a query string nor what a relayed path carries past its API's prefix
(a person's identifier, for an operation with personal data): written through uvicorn's own formatter."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from agora.access_log import DropQueryStrings, RedactRelayedPaths, redact_relayed_path

NIR = "284127510804236"


def _line(path: str, *filters: logging.Filter) -> str:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
    )  # fmt: skip
    for one in filters:
        assert one.filter(record)
    return AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/gateway/benefits/entitlements/v1/beneficiaries/{NIR}/entitlements",
         "/gateway/benefits/entitlements/v1/[redacted]"),
        (f"/gateway/benefits/entitlements/v1/beneficiaries/{NIR}/entitlements?at=2025-01-01",
         "/gateway/benefits/entitlements/v1/[redacted]"),
        (f"/gateway/benefits/entitlements/v1?nir={NIR}", "/gateway/benefits/entitlements/v1?[redacted]"),
        ("/gateway/benefits/entitlements/v1", "/gateway/benefits/entitlements/v1"),
        (f"/gateway/{NIR}", "/gateway/[redacted]"),  # not an API's prefix: nothing kept
        (f"/gateway/a/b/{NIR}/x", "/gateway/[redacted]"),
        ("/gateway/", "/gateway/[redacted]"),
        ("/gateway", "/gateway"),
        (f"/gatewayed/{NIR}", f"/gatewayed/{NIR}"),  # another route: not relayed
        ("/account/apps/3", "/account/apps/3"),
    ],
)  # fmt: skip
def test_a_relayed_path_is_cut_after_its_apis_prefix(path: str, logged: str) -> None:
    assert redact_relayed_path(path, "/gateway") == logged


def test_the_log_line_holds_no_identifier_and_no_query() -> None:
    relayed = f"/gateway/benefits/entitlements/v1/beneficiaries/{NIR}/entitlements?token=s3cr3t"
    for order in ((DropQueryStrings(), RedactRelayedPaths("/gateway")),
                  (RedactRelayedPaths("/gateway"), DropQueryStrings())):  # fmt: skip
        line = _line(relayed, *order)
        assert NIR not in line and "s3cr3t" not in line
        assert '"GET /gateway/benefits/entitlements/v1/[redacted] HTTP/1.1" 200' in line
    verify = _line("/account/verify?token=s3cr3t.sig", DropQueryStrings(), RedactRelayedPaths("/gateway"))
    assert "s3cr3t" not in verify and "/account/verify?[redacted]" in verify
