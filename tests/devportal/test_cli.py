"""`agora portal build` and `agora agency add-admin` from the command line, on a real database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from registry.models import AgencyMembership

REPO = Path(__file__).resolve().parents[2]

# Subprocesses are slow to start; the services behind these commands are tested on both databases elsewhere.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _agora(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "AGORA_DATABASE_URL": database_url,
        "AGORA_STATE_DIR": str(tmp_path / "state"),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "agora", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("seeded")
def test_build_then_rebuild_unchanged(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "portal"
    first = _agora(database_url, tmp_path, "portal", "build", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "site rebuilt" in first.stdout and (out / "site" / "index.html").exists()
    second = _agora(database_url, tmp_path, "portal", "build", "--out", str(out))
    assert "0 files written" in second.stdout and "site unchanged" in second.stdout


def test_add_admin(
    database_url: str, tmp_path: Path, sessions: sessionmaker[Session], seeded: dict[str, str]
) -> None:
    done = _agora(database_url, tmp_path, "agency", "add-admin", "cadastre", "chief@cadastre.example")
    assert done.returncode == 0, done.stderr
    assert "chief@cadastre.example is now an admin of cadastre" in done.stdout
    again = _agora(database_url, tmp_path, "agency", "add-admin", "cadastre", "chief@cadastre.example")
    assert again.returncode == 6 and again.stderr.startswith("error: ")
    missing = _agora(database_url, tmp_path, "agency", "add-admin", "nowhere", "x@example.org")
    assert missing.returncode == 5
    with sessions() as session:
        emails = {m.developer.email for m in session.scalars(select(AgencyMembership))}
    assert emails == {
        "admin@meteo.example.gov",
        "admin@commerce.example.gov",
        "admin@benefits.example.gov",
        "chief@cadastre.example",
    }
