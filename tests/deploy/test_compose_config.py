"""docker-compose.yml validated by a Compose implementation: Debian's `docker-compose` (1.29, which
`make test` installs) checks the file against the Compose specification's JSON schema and resolves it with
`config`, for the default services and each profile. No container engine is needed for that.

Compose 1.29 predates the specification's top-level `name`, so the file is checked without that one
line (the project name is given with `-p` instead); everything else is checked as written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
# The secrets the file requires from the environment (`${X:?...}`): dummies, for resolving only.
DUMMY_ENV = {
    "POSTGRES_PASSWORD": "dummy",
    "AGORA_HMAC_KEY": "00" * 32,
    "AGORA_SESSION_SECRET": "dummy",
    "GRAFANA_ADMIN_PASSWORD": "dummy",
}

pytestmark = pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed (make test installs it)"
)


def _config(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **DUMMY_ENV}
    command = ["docker-compose", "-f", str(copy), "--project-directory", str(REPO), "-p", "agora", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture
def checked_copy(tmp_path: Path) -> Path:
    text = COMPOSE.read_text()
    lines = [line for line in text.splitlines() if not line.startswith("name:")]
    assert len(lines) == len(text.splitlines()) - 1, "the file names its project once, at the top"
    copy = tmp_path / "docker-compose.yml"
    copy.write_text("\n".join(lines) + "\n")
    return copy


@pytest.mark.parametrize("profile", [None, "kong", "loadtest"])
def test_the_file_is_valid_compose_for_every_profile(checked_copy: Path, profile: str | None) -> None:
    args = ["--profile", profile] if profile else []
    done = _config(checked_copy, *args, "config")
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    services = resolved["services"]
    expected = {"postgres", "redis", "migrate", "admin", "gateway", "portal", "prometheus", "grafana"}
    assert expected <= set(services)
    if profile == "kong":
        assert {"kong", "kong-config", "kong-snapshot"} <= set(services)
    if profile == "loadtest":
        assert "locust" in services
    assert services["gateway"]["deploy"]["replicas"] >= 3


def test_the_production_topology_names_every_role(checked_copy: Path) -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["locust"]["profiles"] == ["loadtest"]
    assert services["kong"]["profiles"] == ["kong"]
    for name in ("admin", "gateway", "portal", "prometheus", "grafana", "postgres", "redis", "kong"):
        assert "healthcheck" in services[name], name


def test_an_invalid_file_is_refused(checked_copy: Path) -> None:
    """The check is real: a misspelt key fails it."""
    checked_copy.write_text(checked_copy.read_text().replace("    healthcheck:", "    healthchek:", 1))
    done = _config(checked_copy, "config", "-q")
    assert done.returncode != 0 and "healthchek" in done.stderr
