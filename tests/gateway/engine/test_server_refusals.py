"""What the server refuses by itself, each as a problem document with `connection: close`: slow or
oversized heads (408, 414, 431), malformed framing llhttp refuses (400), RFC 9112 rules the protocol
adds (Host, targets, Transfer-Encoding in HTTP/1.0), and versions other than 1.0/1.1 (505)."""

from __future__ import annotations

import asyncio

import pytest
from engine_wire import Answer, connect, get, hello, run, serving

from agora.errors import PROBLEM_BASE
from gateway.engine.http import Request, Responder

POST = b"POST / HTTP/1.1\r\nhost: t\r\n"
SLUGS = {
    400: "bad-request",
    408: "request-timeout",
    414: "uri-too-long",
    431: "header-fields-too-large",
    500: "internal-error",
    505: "http-version-not-supported",
}


def refused(raw: bytes, **limits: float) -> tuple[Answer, bool]:
    """Sends `raw` on a fresh connection; the answer, and whether the server then closed."""

    async def scenario() -> tuple[Answer, bool]:
        async with serving(hello, **limits) as server:
            client = await connect(server)
            await client.send(raw)
            answer = await client.answer()
            return answer, await client.closed()

    return run(scenario())


def assert_problem(answer: Answer, status: int, detail: str | None = None) -> None:
    assert answer.status == status
    assert answer.header("connection") == "close"
    problem = answer.problem()
    assert problem["type"] == PROBLEM_BASE + SLUGS[status]
    assert problem["status"] == status
    assert problem["title"]
    if detail is not None:
        assert problem["detail"] == detail


def test_a_head_arriving_too_slowly_gets_408() -> None:
    async def scenario() -> tuple[Answer, bool]:
        async with serving(hello, head_timeout=0.3) as server:
            client = await connect(server)
            for byte in b"GET / HTTP/1.1\r\n":  # slowloris: one byte at a time, never the end
                await client.send(bytes([byte]))
                await asyncio.sleep(0.03)
            answer = await client.answer()
            return answer, await client.closed()

    answer, closed = run(scenario())
    assert_problem(answer, 408, "the request head did not arrive within 0.3 s")
    assert closed


def test_a_silent_connection_gets_408() -> None:
    async def scenario() -> tuple[Answer, bool]:
        async with serving(hello, head_timeout=0.2) as server:
            client = await connect(server)
            answer = await client.answer()
            return answer, await client.closed()

    answer, closed = run(scenario())
    assert_problem(answer, 408)
    assert closed


def test_a_long_target_gets_414() -> None:
    answer, closed = refused(get("/" + "a" * 200), max_url_bytes=100)
    assert_problem(answer, 414, "the request target is longer than 100 bytes")
    assert closed


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ("".join(f"x-{n}: v\r\n" for n in range(11)), "more than 10 header fields"),
        ("x-big: " + "v" * 300 + "\r\n", "more than 200 bytes of header fields"),
    ],
)
def test_too_many_or_too_large_headers_get_431(headers: str, detail: str) -> None:
    answer, closed = refused(get(headers=headers), max_headers=10, max_header_bytes=200)
    assert_problem(answer, 431, detail)
    assert closed


def test_an_endless_header_line_gets_431_before_it_ends() -> None:
    answer, _ = refused(
        b"GET / HTTP/1.1\r\nhost: t\r\nx-endless: " + b"v" * 2000, max_url_bytes=100, max_header_bytes=200
    )
    assert_problem(answer, 431)
    assert "the request head is over" in answer.problem()["detail"]


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (
            b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding can't be present with Content-Length",
        ),
        (b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd", "Duplicate"),
        (b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: gzip\r\n\r\nabc", "Transfer-Encoding"),
        (b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"GET / HTTP/1.1\r\nhost: t\r\nx-folded: a\r\n b\r\n\r\n", "whitespace"),  # obs-fold
        (b"GET / HTTP/1.1\nhost: t\n\n", "CRLF"),  # bare LF
        (b"GET / HTTP/1.1\r\nhost: t\nx: y\r\n\r\n", "CR"),  # bare LF in the headers
        (b"GET / HTTP/1.1\r\nhost: t\rx: y\r\n\r\n", "LF"),  # bare CR
        (b"GET / HTTP/1.1\r\nhost : t\r\n\r\n", "header token"),
        (b"BREW / HTTP/1.1\r\nhost: t\r\n\r\n", "method"),
        (b"get / HTTP/1.1\r\nhost: t\r\n\r\n", "method"),
        (b"GET /a\x01b HTTP/1.1\r\nhost: t\r\n\r\n", "url"),
        (b"GET /a b HTTP/1.1\r\nhost: t\r\n\r\n", "HTTP/"),
        (b"GET nowhere HTTP/1.1\r\nhost: t\r\n\r\n", "url"),
        (b"GET / HTTP/1.1\r\nhost: t\r\nx: a\x00b\r\n\r\n", "header value"),
        # request smuggling vectors: each framing ambiguity is refused, not guessed
        (POST + b"transfer-encoding : chunked\r\n\r\n0\r\n\r\n", "header field char"),
        (POST + b"transfer-encoding: xchunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding"),
        (
            POST + b"transfer-encoding: chunked\r\ntransfer-encoding: identity\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding",
        ),
        (POST + b" transfer-encoding: chunked\r\n\r\n0\r\n\r\n", "whitespace"),
        (POST + b"transfer-encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", "chunk size"),
        (POST + b"transfer-encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nabc\r\n", "overflow"),
        (POST + b"transfer-encoding: chunked\r\n\r\n3\nabc\n0\n\n", "CR"),
        (POST + b"content-length: 1e3\r\n\r\n", "Content-Length"),
        (POST + b"content-length: \r\n\r\n", "Empty Content-Length"),
        (POST + b"content-length: 99999999999999999999999\r\n\r\n", "overflow"),
    ],
)
def test_what_llhttp_refuses_gets_400(raw: bytes, detail: str) -> None:
    answer, closed = refused(raw)
    assert_problem(answer, 400)
    assert answer.problem()["detail"].startswith("the request is malformed: ")
    assert detail.lower() in answer.problem()["detail"].lower()
    assert closed


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "an HTTP/1.1 request needs one Host header, not 0"),
        (b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", "an HTTP/1.1 request needs one Host header, not 2"),
        (b"GET / HTTP/1.0\r\nhost: a\r\nHost: a\r\n\r\n", "an HTTP/1.0 request needs one Host header, not 2"),
        (
            b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "Transfer-Encoding in an HTTP/1.0 request",
        ),
        (
            b"CONNECT example.org:443 HTTP/1.1\r\nhost: example.org:443\r\n\r\n",
            "the request target is neither a path nor an absolute URL",
        ),
        (b"GET * HTTP/1.1\r\nhost: t\r\n\r\n", "the request target is neither a path nor an absolute URL"),
        (
            b"POST / HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: h2c\r\n"
            b"content-length: 3\r\n\r\nabc",
            "an Upgrade request with a body is not served here",
        ),
    ],
)
def test_rfc_9112_rules_the_protocol_adds_get_400(raw: bytes, detail: str) -> None:
    answer, closed = refused(raw)
    assert_problem(answer, 400, detail)
    assert closed


def test_http_versions_other_than_1_0_and_1_1_get_505() -> None:
    answer, closed = refused(b"GET / HTTP/2.0\r\nhost: t\r\n\r\n")
    assert_problem(answer, 505, "HTTP/2.0 is not served here; use HTTP/1.1")
    assert closed


def test_http10_without_host_is_served() -> None:
    answer, closed = refused(b"GET /old HTTP/1.0\r\n\r\n")
    assert (answer.status, answer.body, closed) == (200, b"hello /old", True)


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/a%2Fb?q=1#frag", "hello /a%2Fb"),  # still encoded; the fragment dropped
        ("http://example.org/abs?x", "hello /abs"),  # absolute-form
        ("http://example.org", "hello /"),
    ],
)
def test_request_targets_accepted(target: str, path: str) -> None:
    answer, _ = refused(get(target, headers="connection: close\r\n"))
    assert answer.body == path.encode()


def test_options_asterisk_is_accepted() -> None:
    answer, _ = refused(get("*", method="OPTIONS", headers="connection: close\r\n"))
    assert answer.body == b"hello *"


def test_an_upgrade_request_is_answered_without_upgrading_then_closed() -> None:
    answer, closed = refused(get(headers="connection: upgrade\r\nupgrade: websocket\r\n") + get("/after"))
    assert (answer.status, answer.header("connection"), closed) == (200, "close", True)


def test_a_bad_request_after_a_good_one_is_refused_after_its_answer() -> None:
    async def slow(request: Request, responder: Responder) -> None:
        await asyncio.sleep(0.1)
        await hello(request, responder)

    async def scenario() -> tuple[Answer, Answer, bool]:
        async with serving(slow) as server:
            client = await connect(server)
            await client.send(get("/good") + b"GET / HTTP/1.1\r\n\r\n")
            first = await client.answer()
            second = await client.answer()
            return first, second, await client.closed()

    first, second, closed = run(scenario())
    assert first.body == b"hello /good"
    assert_problem(second, 400, "an HTTP/1.1 request needs one Host header, not 0")
    assert closed
