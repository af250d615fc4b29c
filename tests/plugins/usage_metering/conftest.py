"""A real admin API process over a migrated SQLite registry with a platform-admin token: where the
`http` backend posts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_harness import REPO, free_port, stop, wait_for

from registry.db import make_engine, make_sessionmaker
from registry.models import Role
from registry.services import tokens
from tests.plugins.helpers import HMAC_HEX, HMAC_KEY, sqlite_copy


@dataclass(frozen=True)
class AdminApi:
    url: str
    ingest: str
    token: str
    ops_token: str
    database_url: str


@pytest.fixture(scope="module")
def admin_api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    where = tmp_path_factory.mktemp("admin")
    url = sqlite_copy(sqlite_template, where)
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        _, token = tokens.create_token(
            session, name="metering", role=Role.PLATFORM_ADMIN, agencies=[], hmac_key=HMAC_KEY, actor="test"
        )
        _, ops = tokens.create_token(
            session, name="ops", role=Role.OPS, agencies=[], hmac_key=HMAC_KEY, actor="t"
        )
    engine.dispose()
    port = free_port()
    env = {**os.environ, "AGORA_DATABASE_URL": url, "AGORA_HMAC_KEY": HMAC_HEX, "AGORA_SESSION_SECRET": "s",
           "AGORA_STATE_DIR": str(where / "state")}  # fmt: skip
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "registry.admin.app:create_app",
        "--factory",
        "--port",
        str(port),
    ]
    process = subprocess.Popen([*args, "--log-level", "warning"], cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/admin/status", process)
        yield AdminApi(base, base + "/admin/usage/ingest", token, ops, url)
    finally:
        stop(process)
