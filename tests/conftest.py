"""Shared fixtures: a migrated registry database on SQLite and on the real PostgreSQL, and settings."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from registry import migrate
from registry.db import make_engine, make_sessionmaker
from registry.models import Base

REPO = Path(__file__).resolve().parents[1]
# Real government specs, vendored with their sources and licences (tests/data/specs/README.md).
GOVERNMENT_SPECS = REPO / "tests" / "data" / "specs"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the real server, migrated once, dropped at the end."""
    name = f"agora_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=None,
        state_dir=tmp_path / "state",
        hmac_key=b"k" * 32,
        session_secret="test-session-secret",
        gateway_url="http://127.0.0.1:8000",
        portal_url="http://127.0.0.1:8002",
        allowed_upstream_hosts=(),
    )
