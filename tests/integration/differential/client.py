"""A raw HTTP/1.1 client for the differential test: sends exact bytes (odd paths, duplicate headers,
pipelined requests) and parses the answers with httptools, keeping headers as they came."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass, field

import httptools

__all__ = ["Answer", "exchange"]


@dataclass
class Answer:
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False  # the whole message arrived (False: cut off, or the connection was reset)


class _Collector:
    def __init__(self, head_only: list[bool]) -> None:
        self.answers: list[Answer] = []
        self.head_only = head_only
        self.current = Answer()
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.current = Answer()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.current.status = self.parser.get_status_code()
        if (
            self.head_only[len(self.answers)]
            or self.current.status in (204, 304)
            or self.current.status < 200
        ):
            # llhttp cannot know a HEAD answer has no body: the message ends with its head.
            self.current.complete = True
            self.answers.append(self.current)
            raise _HeadDone

    def on_body(self, body: bytes) -> None:
        self.current.body += body

    def on_message_complete(self) -> None:
        self.current.complete = True
        self.answers.append(self.current)


class _HeadDone(Exception):
    pass


def exchange(port: int, raw: bytes, methods: list[str], timeout: float = 5.0) -> list[Answer]:
    """Sends `raw` (one or more requests) and reads one answer per method, in order."""
    head_only = [m == "HEAD" for m in methods] + [False]
    collector = _Collector(head_only)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        deadline = time.monotonic() + timeout
        pending = b""
        while len(collector.answers) < len(methods) and time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                with contextlib.suppress(httptools.HttpParserError, _HeadDone):
                    collector.parser.feed_data(b"")  # EOF ends a close-delimited body
                if collector.current.status and not collector.current.complete:
                    collector.answers.append(collector.current)
                break
            pending += data
            # An interim answer (100 Continue) is not one of the answers counted: dropped whole.
            while pending.startswith(b"HTTP/1.1 1") and b"\r\n\r\n" in pending:
                pending = pending[pending.index(b"\r\n\r\n") + 4 :]
            while pending:
                try:
                    collector.parser.feed_data(pending)
                    pending = b""
                except _HeadDone:
                    # A bodiless answer ended at its head; the corpus puts one only last in a pipeline.
                    pending = b""
                    collector.parser = httptools.HttpResponseParser(collector)
                except httptools.HttpParserError:
                    return [*collector.answers, Answer(status=-1)]
    return collector.answers
