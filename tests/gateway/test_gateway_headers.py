"""Hop-by-hop removal, forwarding headers, trusted proxies, path checks."""

from __future__ import annotations

import pytest

from gateway.errors import BadGateway, BadRequest
from gateway.pipeline import headers as headers_module
from gateway.pipeline.headers import TrustedProxies, answer_headers, forwarded_ip, upstream_header_block
from gateway.pipeline.routing import check_path
from gateway.upstream.transport import request_of

TRUSTED = TrustedProxies(("10.0.0.0/8",))


def upstream_headers(headers: list[tuple[bytes, bytes]], **kwargs: object) -> list[tuple[str, str]]:
    """The header block as the text pairs a transport taking pairs receives (request_of)."""
    block = upstream_header_block(headers, **kwargs)
    return request_of("http://u", "GET", "/", block, None, None).headers


def test_hop_by_hop_and_connection_listed_headers_never_reach_the_client() -> None:
    headers = [(b"connection", b"close, x-a"), (b"x-a", b"1"), (b"te", b"trailers"), (b"x-b", b"2")]
    assert answer_headers(headers, "1.1") == [(b"x-b", b"2"), (b"via", b"1.1 agora")]


def test_connection_listed_headers_never_reach_the_upstream() -> None:
    headers = [(b"connection", b"keep-alive, X-A"), (b"x-a", b"1"), (b"te", b"trailers"), (b"x-b", b"2")]
    pairs = upstream_headers(headers, peer="198.51.100.7", scheme="http", http_version="1.1", request_id="r",
                             prefix="/a/b/v1", trusted=TRUSTED, overrides={})  # fmt: skip
    assert ("x-b", "2") in pairs and not {"x-a", "te", "connection"} & {k.lower() for k, _ in pairs}


def test_plugin_overrides_are_encoded_once_and_still_checked_every_time() -> None:
    """A plugin's header lines are kept once checked (bounded), and a line that would split is refused
    whatever was sent before, and never kept."""
    common = {"peer": "198.51.100.7", "scheme": "http", "http_version": "1.1", "request_id": "r",
              "prefix": "/a/b/v1", "trusted": TRUSTED}  # fmt: skip
    incoming = [(b"x-api-key", b"secret"), (b"accept", b"*/*")]
    identity = {b"x-api-key": ("X-Api-Key", None), b"x-consumer-id": ("X-Consumer-ID", "c-1")}
    for _ in range(2):  # the second request takes the kept line
        pairs = upstream_headers(incoming, overrides=identity, **common)
        assert ("X-Consumer-ID", "c-1") in pairs and "x-api-key" not in {k.lower() for k, _ in pairs}
    assert headers_module._override_lines[("X-Consumer-ID", "c-1")] == b"X-Consumer-ID: c-1\r\n"
    split = {b"x-consumer-id": ("X-Consumer-ID", "c-1\r\nX-Admin: yes")}
    for _ in range(2):
        with pytest.raises(BadGateway, match="would split"):
            upstream_header_block(incoming, overrides=split, **common)  # type: ignore[arg-type]
    assert ("X-Consumer-ID", "c-1\r\nX-Admin: yes") not in headers_module._override_lines
    for n in range(headers_module._OVERRIDE_LINES + 1):  # many callers: the memory stays bounded
        upstream_header_block(incoming, overrides={b"x-n": ("X-N", str(n))}, **common)  # type: ignore[arg-type]
    assert len(headers_module._override_lines) <= headers_module._OVERRIDE_LINES


def test_forwarded_ip_only_through_trusted_proxies() -> None:
    headers = [(b"x-forwarded-for", b"203.0.113.9, 10.1.1.1")]
    assert forwarded_ip("198.51.100.7", headers, TRUSTED) == "198.51.100.7"
    assert forwarded_ip("10.2.2.2", headers, TRUSTED) == "203.0.113.9"
    assert forwarded_ip("10.2.2.2", [], TRUSTED) == "10.2.2.2"


def test_upstream_headers_from_untrusted_and_trusted_peers() -> None:
    incoming = [
        (b"host", b"api.example"),
        (b"x-forwarded-for", b"1.2.3.4"),
        (b"x-forwarded-proto", b"https"),
        (b"via", b"1.1 edge"),
        (b"connection", b"keep-alive"),
        (b"accept", b"*/*"),
    ]
    common = {
        "scheme": "http",
        "http_version": "1.1",
        "request_id": "r",
        "prefix": "/a/b/v1",
        "overrides": {},
    }
    untrusted = dict(upstream_headers(incoming, peer="198.51.100.7", trusted=TRUSTED, **common))
    assert untrusted["X-Forwarded-For"] == "198.51.100.7"
    assert untrusted["X-Forwarded-Proto"] == "http" and untrusted["X-Forwarded-Host"] == "api.example"
    assert untrusted["Via"] == "1.1 edge, 1.1 agora" and untrusted["accept"] == "*/*"
    assert "connection" not in untrusted and "host" not in untrusted
    trusted = dict(upstream_headers(incoming, peer="10.0.0.1", trusted=TRUSTED, **common))
    assert trusted["X-Forwarded-For"] == "1.2.3.4, 10.0.0.1" and trusted["X-Forwarded-Proto"] == "https"
    overridden = dict(
        upstream_headers(
            incoming,
            peer="10.0.0.1",
            trusted=TRUSTED,
            **{**common, "overrides": {b"accept": ("Accept", "x")}},
        )
    )
    assert overridden["Accept"] == "x" and "accept" not in overridden
    overrides = {b"accept": ("Accept", None), b"x-forwarded-proto": ("X-Forwarded-Proto", "h")}
    cleared = dict(
        upstream_headers(incoming, peer="10.0.0.1", trusted=TRUSTED, **{**common, "overrides": overrides})
    )
    assert "accept" not in cleared and "Accept" not in cleared and cleared["X-Forwarded-Proto"] == "h"


@pytest.mark.parametrize(
    "path",
    [
        "/a/b/v1/../x",
        "/a/b/v1/./x",
        "/a/b/v1/%2e%2E/x",
        "/a/b/v1/x%2F..%2F..",
        "/a/b/v1/x\\..",
        "/a/%00",
        # An encoded separator in a parameter would reach another operation at the upstream (issue 14).
        "/a/b/v1/a%2Fb",
        "/a/b/v1/a%2fb",
        "/a/b/v1/a%5Cb",
        "/a/b/v1/a%5cb",
        "/a/b/v1/a\\b",
    ],
)
def test_escaping_paths_are_refused(path: str) -> None:
    with pytest.raises(BadRequest):
        check_path(path)


@pytest.mark.parametrize(
    "path", ["/a/b/v1/x", "/a/b/v1/report.v2.pdf", "/a/b/v1/a%20b", "/a/b/v1/...", "/a/b/v1/.x", "/a/%252F"]
)
def test_ordinary_paths_pass(path: str) -> None:
    check_path(path)


def test_answer_headers_drop_hop_by_hop_and_the_upstreams_request_id_and_add_via() -> None:
    from gateway.pipeline.headers import answer_headers

    upstream = [
        (b"content-type", b"text/plain"), (b"connection", b"keep-alive, X-Private"), (b"x-private", b"1"),
        (b"keep-alive", b"timeout=5"), (b"transfer-encoding", b"chunked"), (b"x-request-id", b"theirs"),
        (b"x-dup", b"a"), (b"x-dup", b"b"),
    ]  # fmt: skip
    assert answer_headers(upstream, "1.1") == [
        (b"content-type", b"text/plain"), (b"x-dup", b"a"), (b"x-dup", b"b"), (b"via", b"1.1 agora"),
    ]  # fmt: skip
    assert answer_headers([(b"via", b"1.0 cache")], "1.0") == [(b"via", b"1.0 cache, 1.0 agora")]
