"""Header rules of a proxy: hop-by-hop removal (RFC 9110 section 7.6.1), `X-Forwarded-*`, `Via`.

Client addresses are trusted only from configured proxies: anyone else could write `X-Forwarded-For`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from gateway.errors import BadGateway
from gateway.types import Headers

__all__ = [
    "HOP_BY_HOP", "TrustedProxies", "answer_headers", "forwarded_ip", "upstream_header_block",
]  # fmt: skip

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Recomputed by the gateway, never copied from the client.
_REPLACED = frozenset(
    {
        b"host",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-prefix",
        b"via",
        b"x-request-id",
        b"expect",
    }
)
VIA = "agora"
# What the gateway tells the upstream about the request (names as sent, and lowercased to compare).
_FORWARDING = (
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Prefix",
    "X-Request-ID",
    "Via",
)
_FORWARDING_KEYS = tuple(name.lower().encode("latin-1") for name in _FORWARDING)


_CONNECTION_TOKENS = frozenset({b"keep-alive", b"close"})  # a Connection header of these names no header
_ANSWER_DROPPED = HOP_BY_HOP | {b"x-request-id"}  # the gateway's own id is the one the client gets
_VIA = {"1.1": b"1.1 agora", "1.0": b"1.0 agora"}


def answer_headers(headers: Headers, http_version: str) -> Headers:
    """An upstream's answer headers as the client gets them, in one pass: hop-by-hop ones (and those its
    `Connection` names) and `X-Request-ID` dropped, `Via` appended to or added."""
    via = _VIA.get(http_version) or f"{http_version} {VIA}".encode("latin-1")
    out: Headers = []
    connection = None
    added = False
    for name, value in headers:
        if name in _ANSWER_DROPPED:
            if name == b"connection":
                connection = value if connection is None else connection + b"," + value
            continue
        if name == b"via" and not added:
            value, added = value + b", " + via, True
        out.append((name, value))
    if (
        connection is not None and connection.lower() not in _CONNECTION_TOKENS
    ):  # "keep-alive": nothing listed
        listed = {t.strip().lower() for t in connection.split(b",")} - HOP_BY_HOP - _CONNECTION_TOKENS
        if listed:  # rare: names the upstream made hop-by-hop
            out = [(name, value) for name, value in out if name not in listed]
    if not added:
        out.append((b"via", via))
    return out


class TrustedProxies:
    """The networks whose `X-Forwarded-*` headers are believed. Empty: nobody's are."""

    def __init__(self, networks: tuple[str, ...] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self.contains = lru_cache(maxsize=4096)(self._contains)

    def _contains(self, address: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def _get(headers: Headers, name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def forwarded_ip(peer: str, headers: Headers, trusted: TrustedProxies) -> str:
    """The client address: walks `X-Forwarded-For` right to left while the hop is a trusted proxy."""
    if not trusted.contains(peer):
        return peer
    chain = ",".join(v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for")
    hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
    client = peer
    while hops and trusted.contains(client):
        client = hops.pop()
    return client


_SKIPPED = HOP_BY_HOP | _REPLACED
_FORWARDING_LINES = tuple(name.encode("latin-1") + b": " for name in _FORWARDING)
_FORWARDING_KEY_SET = frozenset(_FORWARDING_KEYS)
# The forwarding facts in one formatting operation (the same names and order as _FORWARDING).
_FORWARDING_BLOCK = b"".join(line + b"%b\r\n" for line in _FORWARDING_LINES)


def upstream_header_block(
    headers: Headers,
    *,
    peer: str,
    scheme: str,
    http_version: str,
    request_id: str,
    prefix: str,
    trusted: TrustedProxies,
    overrides: dict[bytes, tuple[str, str | None]],
) -> bytes:
    """The header lines sent upstream, as bytes (each ending in CRLF): the client's minus hop-by-hop
    (and those its `Connection` header names), plus forwarding facts; then a plugin's `overrides`
    (kong.service.request: lower-cased name -> (name, value), None to clear) replace or clear headers of
    the same name. One pass over the client's headers, no decoding: it runs for every request. `Host`
    is the upstream client's to add."""
    pieces: list[bytes] = []
    add = pieces.extend
    via = host = connection = None
    for name, value in headers:
        if name in _SKIPPED:
            if name == b"via":
                via = via if via is not None else value
            elif name == b"host":
                host = host if host is not None else value
            elif name == b"connection":
                connection = value if connection is None else connection + b"," + value
            continue
        if overrides and name in overrides:
            continue
        add((name, b": ", value, b"\r\n"))
    if connection is not None and connection.lower() not in _CONNECTION_TOKENS:
        listed = {t.strip().lower() for t in connection.split(b",")} - HOP_BY_HOP - _CONNECTION_TOKENS
        if listed:  # rare: names the client made hop-by-hop; drop their lines
            pieces = [
                piece
                for k in range(0, len(pieces), 4)
                if pieces[k] not in listed
                for piece in pieces[k : k + 4]
            ]
    version = http_version.encode("latin-1") + b" agora"
    peer_bytes = peer.encode("latin-1")
    scheme_bytes = scheme.encode("latin-1")
    if trusted.networks and trusted.contains(peer):
        incoming = b", ".join(v for k, v in headers if k == b"x-forwarded-for")
        forwarded_for = incoming + b", " + peer_bytes if incoming else peer_bytes
        proto = _get(headers, b"x-forwarded-proto")
        scheme_bytes = proto.encode("latin-1") if proto else scheme_bytes
        forwarded_host = _get(headers, b"x-forwarded-host")
        host = forwarded_host.encode("latin-1") if forwarded_host else host
    else:
        forwarded_for = peer_bytes
    values = (
        forwarded_for, scheme_bytes, host or b"", prefix.encode("latin-1"), request_id.encode("latin-1"),
        via + b", " + version if via else version,
    )  # fmt: skip
    if not overrides:
        pieces.append(_FORWARDING_BLOCK % values)
        return b"".join(pieces)
    if _FORWARDING_KEY_SET.isdisjoint(overrides):
        pieces.append(_FORWARDING_BLOCK % values)
    else:
        for line, key, value in zip(_FORWARDING_LINES, _FORWARDING_KEYS, values, strict=True):
            if key not in overrides:
                pieces += (line, value, b"\r\n")
    lines = _override_lines
    for pair in overrides.values():
        known = lines.get(pair)
        if known is not None:
            pieces.append(known)
        else:
            written, text = pair
            if text is None:  # cleared
                continue
            if "\r" in text or "\n" in text or "\r" in written or "\n" in written or ":" in written:
                raise BadGateway(f"a plugin set the upstream header {written!r} so that it would split")
            encoded = f"{written}: {text}\r\n".encode("latin-1", "replace")
            if len(lines) >= _OVERRIDE_LINES:
                lines.clear()
            lines[pair] = encoded
            pieces.append(encoded)
    return b"".join(pieces)


# A plugin's (name, value) -> its checked header line: the same few pairs come back on every request
# (key-auth's identity headers for each caller), checked and encoded once. Bounded: cleared when full.
_override_lines: dict[tuple[str, str | None], bytes] = {}
_OVERRIDE_LINES = 4096
