"""Issue 14, item 9 (the portal's part, API4:2023 Unrestricted Resource Consumption): the portal's
endpoints do their database work off the event loop, so one slow query does not stall every request
of the process. Each GET endpoint that reads the registry is called while every query takes a second;
a page that needs no query, asked meanwhile, must still answer at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from tests.devportal.helpers import create_app, sign_in

SLOW_SECONDS = 1.0
BASE = "http://127.0.0.1:8002"
ADMIN = "admin@meteo.example.gov"


class SlowDatabase:
    """Every statement sleeps while `on` is set: a blocking driver call, as a slow query would be."""

    def __init__(self) -> None:
        self.on = threading.Event()

    def __call__(self, *args: Any) -> None:
        if self.on.is_set():
            time.sleep(SLOW_SECONDS)


@pytest.fixture
def slow(sessions: sessionmaker[Session]) -> Iterator[SlowDatabase]:
    hook = SlowDatabase()
    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", hook)
    yield hook
    event.remove(engine, "before_cursor_execute", hook)


@pytest.fixture
def portal(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], tmp_path: Path
) -> Starlette:
    return create_portal_app(settings, sessions, site_dir=tmp_path / "site", mailer=OutboxMailer(tmp_path))


@pytest.fixture
def signed_in(portal: Starlette, seeded: dict[str, str]) -> tuple[dict[str, str], str]:
    """The cookies of a signed-in agency admin, and one of their applications."""
    with TestClient(portal, base_url=BASE) as client:
        sign_in(client, ADMIN, seeded["meteo_admin_portal_password"])
        app_id = create_app(client, "loop-probe")
        return dict(client.cookies), app_id


async def _race(portal: Starlette, cookies: dict[str, str], path: str) -> tuple[float, float]:
    """(seconds the slow page took, seconds a query-free page took while it ran)."""
    transport = httpx.ASGITransport(app=portal)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as client:

        async def timed(url: str, delay: float) -> float:
            """From when the request was due (a blocked loop also delays its start) to its answer."""
            due = time.perf_counter() + delay
            await asyncio.sleep(delay)
            response = await client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            return time.perf_counter() - due

        slow_page, quick_page = await asyncio.gather(timed(path, 0), timed("/account/signin", 0.2))
    return slow_page, quick_page


@pytest.mark.parametrize(
    "path",
    [
        "/account/",
        "/account/apps",
        "/account/apps/{app}",
        "/account/access",
        "/account/usage",
        "/account/api/usage",
        "/agency-console/",
        "/agency-console/meteo/",
        "/transparency/",
        "/transparency/daily.json",
        "/transparency/daily.csv",
        "/status/meteo/forecast/uptime.svg",
    ],
)
def test_a_slow_query_does_not_stall_other_requests(
    portal: Starlette, signed_in: tuple[dict[str, str], str], slow: SlowDatabase, path: str
) -> None:
    cookies, app_id = signed_in
    slow.on.set()
    slow_page, quick_page = asyncio.run(_race(portal, cookies, path.format(app=app_id)))
    slow.on.clear()
    assert slow_page >= SLOW_SECONDS, "the page made no query: the probe proves nothing"
    assert quick_page < SLOW_SECONDS / 2, f"a query-free page waited {quick_page:.2f}s behind {path}"
