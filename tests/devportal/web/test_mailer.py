"""The mailer: an outbox of .eml files for development, SMTP for production (here: a tiny SMTP server
on loopback that records what it receives)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import ClassVar

import pytest

from agora.errors import InvalidInput, Unavailable
from devportal.web.mailer import OutboxMailer, SmtpMailer, mailer_from_env
from tests.devportal.browser.stack import free_port


def test_outbox_writes_one_eml_per_message(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox")
    mailer.send("a@example.org", "Hello", "Body text")
    mailer.send("b@example.org", "Again", "More")
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    first = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert first["To"] == "a@example.org" and first["Subject"] == "Hello"


def test_choice_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGORA_SMTP_URL", raising=False)
    monkeypatch.delenv("AGORA_OUTBOX_DIR", raising=False)
    assert isinstance(mailer_from_env(tmp_path), OutboxMailer)
    monkeypatch.setenv("AGORA_SMTP_URL", "smtp://user:p%40ss@127.0.0.1:2525")
    smtp = mailer_from_env(tmp_path)
    assert isinstance(smtp, SmtpMailer) and smtp.password == "p@ss" and smtp.port == 2525
    with pytest.raises(InvalidInput):
        SmtpMailer("http://127.0.0.1")


class _Smtp(socketserver.StreamRequestHandler):
    received: ClassVar[list[bytes]] = []

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test ESMTP")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.reply("250 test")
            elif command == b"DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                _Smtp.received.append(data)
                self.reply("250 queued")
            elif command == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[int]:
    port = free_port()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Smtp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_smtp_mailer_delivers(smtp_server: int) -> None:
    _Smtp.received.clear()
    SmtpMailer(f"smtp://127.0.0.1:{smtp_server}").send("dev@example.org", "Verify", "Click the link")
    assert len(_Smtp.received) == 1
    message = message_from_bytes(_Smtp.received[0], policy=policy.default)
    assert message["To"] == "dev@example.org" and "Click the link" in message.get_body().get_content()


def test_smtp_down_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=2).send("a@example.org", "s", "b")
