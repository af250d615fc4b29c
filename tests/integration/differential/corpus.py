"""The differential test's corpus: requests as raw bytes, each tagged with `X-Case: <id>` so the recording
upstream can say what arrived for it. Paths are under the prefix `/d/t/v1`; the first segment after it
picks the upstream's answer (recording_upstream.py)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PREFIX", "Case", "corpus"]

PREFIX = "/d/t/v1"


@dataclass(frozen=True)
class Case:
    id: str
    raw: bytes  # with {host} left to fill in
    methods: tuple[str, ...]  # one per request in `raw` (pipelining sends several)


def _request(case: str, method: str, target: str, headers: list[str] = (), body: bytes = b"",  # type: ignore[assignment]
             chunked: list[bytes] | None = None, trailers: list[str] = ()) -> bytes:  # type: ignore[assignment]  # fmt: skip
    lines = [f"{method} {target} HTTP/1.1", "Host: {host}", f"X-Case: {case}", *headers]
    if chunked is not None:
        lines.append("Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunked) + b"0\r\n"
        payload += "".join(f"{t}\r\n" for t in trailers).encode() + b"\r\n"
    elif body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    else:
        payload = b""
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


_PATHS = [
    "/ok/plain", "/ok/a%20b", "/ok/%C3%A9t%C3%A9", "/ok/a+b", "/ok/a;b=c", "/ok/~user", "/ok/A%41z",
    "/ok/x.json", "/ok/%25", "/ok/" + "a" * 2000, "/ok/UPPER/Case", "/ok/a/b", "/ok/%7Ebrace%7D",
    "/ok/caf%c3%a9", "/ok/quote%22", "/ok/star*", "/ok/comma,x", "/ok/at@x", "/ok/colon:x", "/ok/dollar$",
]  # fmt: skip
_QUERIES = ["?a=1&a=2", "?", "?q=%20&r=+", "?x", "?a=1;b=2", "?%zz=1", "?k=" + "v" * 1000, "?e=%C3%A9&f"]
_KINDS = ["ok", "chunked", "close", "empty204", "notmod", "large", "slow", "reset", "headers"]
_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_HEADERS = {
    "duplicate": ["X-Dup: one", "X-Dup: two"],
    "mixed-case": ["x-MiXeD-CaSe: value"],
    "connection-listed": ["Connection: X-Remove", "X-Remove: secret"],
    "keep-alive": ["Connection: keep-alive", "Keep-Alive: timeout=300"],
    "te": ["TE: trailers"],
    "upgrade": ["Upgrade: websocket"],
    "proxy-connection": ["Proxy-Connection: keep-alive"],
    "trailer": ["Trailer: X-Checksum"],
    "forwarded-for": ["X-Forwarded-For: 203.0.113.9"],
    "long-value": ["X-Long: " + "y" * 4000],
    "spaces": ["X-Spaces:   padded value   "],
    "empty-value": ["X-Empty:"],
    "comma-list": ["Accept: text/html, application/json;q=0.9, */*;q=0.1"],
    "authorization": ["Authorization: Bearer abc.def.ghi"],
    "cookie": ["Cookie: a=1", "Cookie: b=2"],
}


def corpus() -> list[Case]:
    cases: list[Case] = []

    def add(raw_for: object, methods: tuple[str, ...]) -> None:
        case_id = f"c{len(cases):03d}"
        cases.append(Case(case_id, raw_for(case_id), methods))  # type: ignore[operator]

    for path in _PATHS:
        for method in ("GET", "HEAD"):
            add(lambda c, m=method, p=path: _request(c, m, PREFIX + p), (method,))
    for query in _QUERIES:
        for method in ("GET", "DELETE"):
            add(lambda c, m=method, q=query: _request(c, m, PREFIX + "/ok/q" + q), (method,))
    for kind in _KINDS:
        for method in _METHODS:
            add(lambda c, m=method, k=kind: _request(c, m, f"{PREFIX}/{k}/x"), (method,))
    for name, headers in _HEADERS.items():
        for method in ("GET", "HEAD", "POST"):
            add(lambda c, m=method, h=headers, n=name: _request(c, m, f"{PREFIX}/ok/{n}", h), (method,))
        add(lambda c, h=headers, n=name: _request(c, "GET", f"{PREFIX}/headers/{n}", h), ("GET",))
    bodies = {
        "small": {"body": b'{"a":1}'},
        "empty": {"body": b""},
        "large": {"body": b"z" * 262_144},
        "chunked": {"chunked": [b"hello ", b"world"]},
        "chunked-trailer": {"chunked": [b"abc"], "trailers": ["X-Checksum: 1"]},
        "binary": {"body": bytes(range(256))},
    }
    for name, body in bodies.items():
        for method in ("POST", "PUT", "PATCH"):
            add(lambda c, m=method, b=body, n=name: _request(c, m, f"{PREFIX}/ok/{n}", **b), (method,))  # type: ignore[arg-type]
    add(lambda c: _request(c, "POST", f"{PREFIX}/ok/expect", ["Expect: 100-continue"], b"waited"), ("POST",))
    # Pipelining: several requests in one write, answered in order (bodiless answers only last).
    add(
        lambda c: _request(c, "GET", f"{PREFIX}/ok/p1") + _request(c, "GET", f"{PREFIX}/ok/p2"),
        ("GET", "GET"),
    )
    add(lambda c: b"".join(_request(c, "GET", f"{PREFIX}/ok/p{i}") for i in range(3)), ("GET",) * 3)
    add(lambda c: _request(c, "GET", f"{PREFIX}/chunked/a")
        + _request(c, "POST", f"{PREFIX}/ok/b", body=b"xy")
        + _request(c, "GET", f"{PREFIX}/large/c"), ("GET", "POST", "GET"))  # fmt: skip
    add(
        lambda c: _request(c, "GET", f"{PREFIX}/slow/a") + _request(c, "HEAD", f"{PREFIX}/ok/b"),
        ("GET", "HEAD"),
    )
    add(lambda c: _request(c, "POST", f"{PREFIX}/ok/a", chunked=[b"1", b"2"])
        + _request(c, "GET", f"{PREFIX}/ok/b"), ("POST", "GET"))  # fmt: skip
    return cases
