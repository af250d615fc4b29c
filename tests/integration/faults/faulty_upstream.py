"""An upstream that misbehaves on purpose, written on raw asyncio streams so it can do what a well-behaved
HTTP server library will not: `python faulty_upstream.py PORT`.

GET /ok              200, a small body
GET /hang            reads the request, never answers (the connection stays open until the caller leaves)
GET /reset           reads the request, then resets the connection (RST, no answer)
GET /slow?delay=S    answers 200 after S seconds
GET /half            announces 1,000 bytes, sends 10, then resets
GET /garbage         answers bytes that are not HTTP
GET /redirect        302 to the cloud metadata address (a gateway must not follow it)
GET /huge-header     a 64 KiB response header
GET /flaky           500 while broken, 200 otherwise; POST /break and POST /mend switch it
GET /stats           {"open": connections open now, "hanging": of them in /hang, "calls": {path: n}}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import sys
from collections import Counter

calls: Counter[str] = Counter()
state = {"open": 0, "hanging": 0, "broken": 0}


def _answer(status: int, body: bytes, reason: str = "OK") -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    state["open"] += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target = head.split(b" ", 2)[:2]
            path, _, query = target.decode().partition("?")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if path != "/stats":
                calls[path] += 1
            if path == "/ok":
                writer.write(_answer(200, b"ok"))
            elif path == "/hang":
                state["hanging"] += 1
                try:
                    await reader.read()  # until the caller closes
                finally:
                    state["hanging"] -= 1
                return
            elif path == "/reset":
                _reset(writer)
                return
            elif path == "/slow":
                delay = float(dict(p.split("=") for p in query.split("&") if "=" in p).get("delay", "1"))
                await asyncio.sleep(delay)
                writer.write(_answer(200, b"slow"))
            elif path == "/half":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
                await writer.drain()
                await asyncio.sleep(0.05)
                _reset(writer)
                return
            elif path == "/garbage":
                writer.write(b"NOT HTTP AT ALL\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            elif path == "/redirect":
                writer.write(
                    b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
            elif path == "/huge-header":
                huge = b"X-Huge: " + b"h" * 65536
                writer.write(b"HTTP/1.1 200 OK\r\n" + huge + b"\r\nContent-Length: 2\r\n\r\nok")
            elif path == "/flaky":
                writer.write(
                    _answer(500, b"broken", "Internal Server Error")
                    if state["broken"]
                    else _answer(200, b"ok")
                )
            elif path in ("/break", "/mend") and method == b"POST":
                state["broken"] = int(path == "/break")
                writer.write(_answer(200, b"done"))
            elif path == "/stats":
                body = json.dumps({"open": state["open"], "hanging": state["hanging"], "calls": calls})
                writer.write(_answer(200, body.encode()))
            else:
                writer.write(_answer(404, b"no", "Not Found"))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        state["open"] -= 1
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how the tests stop it
        asyncio.run(main(int(sys.argv[1])))
