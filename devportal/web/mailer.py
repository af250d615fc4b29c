"""Sending email: one small interface, two implementations chosen by `AGORA_SMTP_URL`.

- `OutboxMailer` writes each message as an `.eml` file into a folder (development, tests).
- `SmtpMailer` sends through an SMTP server: `smtp://user:pass@host:587` (STARTTLS when the server
  offers it), `smtps://...:465` (TLS from the start).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from agora.errors import InvalidInput, Unavailable

__all__ = ["FROM_ADDRESS", "Mailer", "OutboxMailer", "SmtpMailer", "mailer_from_env", "message"]

FROM_ADDRESS = os.environ.get("AGORA_MAIL_FROM", "Agora developer portal <no-reply@agora.example>")


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


def message(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = FROM_ADDRESS
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@agora.example>"
    msg.set_content(body)
    return msg


class OutboxMailer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, to: str, subject: str, body: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Sortable by time, unique even within one nanosecond tick.
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(bytes(message(to, subject, body)))


class SmtpMailer:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput(f"AGORA_SMTP_URL must be smtp://host:port or smtps://host:port, not {url!r}")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        context = ssl.create_default_context()
        try:
            if self.tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if not self.tls and client.has_extn("starttls"):
                    client.starttls(context=context)
                if self.username is not None:
                    client.login(self.username, self.password or "")
                client.send_message(message(to, subject, body))
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(f"the mail server could not take the message: {exc}") from exc


def mailer_from_env(default_outbox: Path) -> Mailer:
    url = os.environ.get("AGORA_SMTP_URL")
    if url:
        return SmtpMailer(url)
    return OutboxMailer(Path(os.environ.get("AGORA_OUTBOX_DIR") or default_outbox))
