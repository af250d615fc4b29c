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
        if service.get("restart") != "no":  # one-shot jobs (migrate, the kong profile's exports) end
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
        if service.get("build") == ".":  # the agora image (Dockerfile, entrypoint `agora`)
            assert service["command"][0] in commands, name


# --- the `kong` profile: Kong Gateway DB-less with Agora's plugin servers ------------------------------


def test_the_kong_profile_runs_kong_db_less_on_the_exported_config() -> None:
    compose = _compose()
    services = compose["services"]
    kong_profile = {name for name, s in services.items() if "kong" in s.get("profiles", [])}
    assert kong_profile == {"kong-snapshot", "kong-config", "kong"}
    assert services["kong-snapshot"]["command"][:2] == ["config", "compile"]
    assert services["kong-config"]["command"][:2] == ["export", "kong"]
    kong = services["kong"]
    env = kong["environment"]
    assert env["KONG_DATABASE"] == "off"
    config_path, snapshot_path = env["KONG_DECLARATIVE_CONFIG"], env["AGORA_SNAPSHOT"]
    assert config_path == services["kong-config"]["command"][-1]
    assert snapshot_path == services["kong-snapshot"]["command"][-1]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in kong["volumes"]}
    assert mounts["kong-config"] == "/kong"  # the volume both exports write
    assert config_path.startswith("/kong/") and snapshot_path.startswith("/kong/")
    assert "kong-config" in compose["volumes"]
    assert kong["depends_on"]["kong-config"]["condition"] == "service_completed_successfully"
    assert kong["healthcheck"]["test"] == ["CMD", "kong", "health"]


def test_kong_starts_one_agora_plugin_server_per_python_plugin() -> None:
    from plugins.kong.server import DEFAULT_ENV_FILE
    from registry.compile.kong_pluginserver import PLUGIN_COMMAND, plugin_server_settings

    kong = _compose()["services"]["kong"]
    env = {k: str(v) for k, v in kong["environment"].items()}
    names = env["KONG_PLUGINSERVER_NAMES"].split(",")
    assert {"agora-key-auth", "agora-request-validator"} <= set(names)  # what the default export uses
    assert {k: v for k, v in env.items() if k.startswith(("KONG_PLUGINS", "KONG_PLUGINSERVER"))} == (
        plugin_server_settings(names)
    )
    # The image has the command those settings name, and the plugin servers' settings file.
    dockerfile = (COMPOSE.parent / kong["build"]["dockerfile"]).read_text()
    assert re.search(r"^FROM kong:3\.\d+", dockerfile, re.M)
    assert PLUGIN_COMMAND == "/usr/local/bin/agora-kong-plugin" and PLUGIN_COMMAND in dockerfile
    assert kong["secrets"] == ["agora-kong-plugins"]
    assert DEFAULT_ENV_FILE == "/run/secrets/agora-kong-plugins"
