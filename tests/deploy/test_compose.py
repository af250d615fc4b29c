"""The production compose file: the services the architecture names, each with a health check where it runs
long, and no secret written in the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_topology_has_the_expected_services() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "admin", "gateway"} <= set(services)
    assert services["gateway"]["deploy"]["replicas"] >= 3
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name != "migrate":
            assert "healthcheck" in service, name


def test_secrets_come_from_the_environment() -> None:
    text = COMPOSE.read_text()
    for key in ("POSTGRES_PASSWORD", "AGORA_HMAC_KEY", "AGORA_SESSION_SECRET"):
        assert re.search(r"\$\{" + key + r":\?", text), key
    assert not re.search(r"(PASSWORD|SECRET|KEY):\s+[^$\s{]", text)


def test_services_run_commands_the_cli_has() -> None:
    from typer.main import get_command

    from agora.cli import app

    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name, service in _compose()["services"].items():
        if "build" in service:
            assert service["command"][0] in commands, name
