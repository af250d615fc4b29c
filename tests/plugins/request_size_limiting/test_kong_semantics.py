"""request-size-limiting where Kong 3.9's plugin (kong/plugins/request-size-limiting/handler.lua)
defines the answer: 411 only with neither a valid Content-Length nor chunked, 417 for a declared
length over the limit with `Expect: 100-continue`."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.pipeline.plugin_host import apply_schema
from plugins.request_size_limiting import handler
from tests.plugins.fake_kong import Answered, FakeKong


def status(headers: dict[str, str], method: str = "POST", **config: Any) -> int:
    plugin = handler.Plugin(
        apply_schema(handler.Schema, {"allowed_payload_size": 1, "size_unit": "kilobytes", **config}, "rsl")
    )
    kong = FakeKong(method=method, headers=headers)
    try:
        plugin.access(kong)
    except Answered as answered:
        return answered.status
    return 200


@pytest.mark.parametrize(
    ("headers", "method", "expected"),
    [
        ({"Content-Length": "10"}, "POST", 200),
        ({"Transfer-Encoding": "chunked"}, "POST", 200),  # judged while streaming, not refused
        ({"Transfer-Encoding": "gzip, chunked"}, "POST", 200),
        ({}, "GET", 411),  # Kong: neither Content-Length nor chunked, body or not
        ({"Content-Length": "ten"}, "POST", 411),
        ({"Content-Length": "2048"}, "POST", 413),
    ],
)
def test_require_content_length_as_kong(headers: dict[str, str], method: str, expected: int) -> None:
    assert status(headers, method, require_content_length=True) == expected


def test_without_require_content_length_nothing_is_required() -> None:
    assert status({}, "GET") == 200
    assert status({"Transfer-Encoding": "chunked"}) == 200


def test_expect_100_continue_over_the_limit_is_417() -> None:
    assert status({"Content-Length": "2048", "Expect": "100-continue"}) == 417
    assert status({"Content-Length": "2048", "Expect": " 100-Continue "}) == 417
    assert status({"Content-Length": "2048"}) == 413
    assert status({"Content-Length": "512", "Expect": "100-continue"}) == 200
