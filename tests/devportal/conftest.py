"""Portal fixtures: a registry seeded with the example agencies, the portal app with an outbox mailer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from examples.seed import seed
from registry.unit_of_work import change


@pytest.fixture
def seeded(sessions: sessionmaker[Session], settings: Settings) -> dict[str, str]:
    """The example agencies, plans, the demo developer and the meteo agency admin; returns the secrets."""
    with change(sessions) as session:
        return seed(session, settings)


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def client(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], outbox: Path, tmp_path: Path
) -> Iterator[TestClient]:
    app = create_portal_app(settings, sessions, site_dir=tmp_path / "site", mailer=OutboxMailer(outbox))
    with TestClient(app, base_url="http://127.0.0.1:8002") as test_client:
        yield test_client
