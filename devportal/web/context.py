"""What every portal handler needs, kept on `app.state.portal`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from agora.settings import Settings
from devportal.web.citizen_oidc import CitizenOidc
from devportal.web.mailer import Mailer
from devportal.web.oidc_client import OidcClient
from devportal.web.relay_guard import PublishedOperations

__all__ = ["PortalContext", "context", "in_thread"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PortalContext:
    settings: Settings
    sessions: sessionmaker[Session]
    mailer: Mailer
    site_dir: Path
    oidc: OidcClient | None = None  # the developers' identity provider (AGORA_OIDC_*)
    citizen: CitizenOidc | None = None  # the citizens' identity federation (AGORA_CITIZEN_OIDC_*)
    relay_transport: httpx.AsyncBaseTransport | None = None  # tests swap the console relay's transport
    operations: PublishedOperations = field(default_factory=PublishedOperations)  # what the relay serves

    @property
    def secure_cookies(self) -> bool:
        return self.settings.portal_url.startswith("https://")


def context(request: Request) -> PortalContext:
    ctx: PortalContext = request.app.state.portal
    return ctx


async def in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work and password hashing block; they run in the thread pool, not on the event loop."""
    return await run_in_threadpool(func, *args, **kwargs)
