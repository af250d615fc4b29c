"""Raw HTTP/1.1 over a socket, for what an HTTP client library refuses to send (smuggling, slowloris)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["RawAnswer", "exchange", "status_of"]


@dataclass(frozen=True)
class RawAnswer:
    data: bytes
    seconds: float
    closed: bool  # the server closed the connection

    @property
    def status(self) -> int | None:
        return status_of(self.data)


def status_of(data: bytes) -> int | None:
    if not data.startswith(b"HTTP/1."):
        return None
    return int(data.split(b" ", 2)[1])


def exchange(
    base_url: str, payload: bytes, *, timeout: float = 5.0, drip: float | None = None, read_all: bool = True
) -> RawAnswer:
    """Sends `payload` (one byte every `drip` seconds if set) and reads until the server closes, `timeout`
    passes, or (read_all False) the first bytes arrive."""
    parts = urlsplit(base_url)
    started = time.monotonic()
    received = b""
    closed = False
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        sock.settimeout(timeout)
        try:
            if drip is None:
                sock.sendall(payload)
            else:
                for byte in payload:
                    sock.send(bytes([byte]))
                    time.sleep(drip)
                    if time.monotonic() - started > timeout:
                        break
            while time.monotonic() - started < timeout:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                received += chunk
                if not read_all:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        except TimeoutError:
            pass
    return RawAnswer(received, time.monotonic() - started, closed)
