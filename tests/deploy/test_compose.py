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
    for key in ("POSTGRES_PASSWORD", "AGORA_HMAC_KEY", "AGORA_SESSION_SECRET", "GRAFANA_ADMIN_PASSWORD"):
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


def test_kong_takes_its_plugin_servers_from_the_export() -> None:
    """Kong loads exactly the plugins the exported file uses: kong.env, written beside kong.yaml by
    `agora export kong`, is sourced by the container before Kong starts; nothing is listed by hand."""
    from plugins.kong.server import DEFAULT_ENV_FILE
    from registry.compile.kong_pluginserver import PLUGIN_COMMAND

    services = _compose()["services"]
    kong = services["kong"]
    env = {k: str(v) for k, v in kong["environment"].items()}
    assert not [k for k in env if k.startswith(("KONG_PLUGINS", "KONG_PLUGINSERVER"))]
    exported = services["kong-config"]["command"][-1]  # --output /kong/kong.yaml
    assert env["AGORA_KONG_ENV"] == str(Path(exported).with_name("kong.env"))
    assert "--env-output" not in services["kong-config"]["command"]  # so: beside kong.yaml
    dockerfile = (COMPOSE.parent / kong["build"]["dockerfile"]).read_text()
    assert 'ENTRYPOINT ["/usr/local/bin/agora-kong-entrypoint"]' in dockerfile
    assert 'CMD ["kong", "docker-start"]' in dockerfile  # the stock image's command, kept
    script = (COMPOSE.parent / "deploy/kong/agora-kong-entrypoint.sh").read_text()
    assert '. "$env_file"' in script and "/docker-entrypoint.sh" in script
    # The metering credential Kong's env vault resolves ({vault://env/agora-ingest-token}).
    assert "agora-ingest-token" in kong["secrets"] and "AGORA_INGEST_TOKEN=" in script
    # The image has the command those settings name, and the plugin servers' settings file.
    assert re.search(r"^FROM kong:3\.\d+", dockerfile, re.M)
    assert PLUGIN_COMMAND == "/usr/local/bin/agora-kong-plugin" and PLUGIN_COMMAND in dockerfile
    assert "agora-kong-plugins" in kong["secrets"]
    assert DEFAULT_ENV_FILE == "/run/secrets/agora-kong-plugins"


DEPLOY = COMPOSE.parent / "deploy"


def _exported_metric_names() -> set[str]:
    """Every series name the gateway and the admin export, from the code that defines them."""
    from prometheus_client import generate_latest

    from gateway.config.compiled import ConfigHolder
    from gateway.metrics.prometheus import GatewayMetrics
    from gateway.upstream.circuit import Breaker, BreakerPolicy

    metrics = GatewayMetrics(ConfigHolder())
    metrics.circuit_changed(Breaker("http://up:1", BreakerPolicy()))
    for child in (metrics.requests.labels("a", "b", "1", "200"), metrics.rate_limited.labels("a", "b", "1")):
        child.inc()
    metrics.auth_failures.labels("a", "b", "1", "401").inc()
    metrics.latency.labels("a", "b", "1").observe(0.1)
    metrics.upstream.labels("a", "b", "1").observe(0.1)
    names = set(
        re.findall(r"^(agora_\w+?)(?:\{| )", generate_latest(metrics.registry).decode(), re.MULTILINE)
    )
    admin_source = (COMPOSE.parent / "registry" / "admin" / "metrics.py").read_text()
    return names | set(re.findall(r'"(agora_[a-z_]+)"', admin_source))


def test_prometheus_and_grafana_with_health_checks() -> None:
    services = _compose()["services"]
    assert {"prometheus", "grafana"} <= set(services)
    for name in ("prometheus", "grafana"):
        assert "healthcheck" in services[name]
    gateway = services["gateway"]["command"]
    port = gateway[gateway.index("--metrics-port") + 1]
    assert gateway[gateway.index("--metrics-host") + 1] == "0.0.0.0"
    assert services["gateway"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["agora-admin"]["static_configs"][0]["targets"] == ["admin:8001"]
    assert jobs["agora-admin"]["authorization"]["credentials_file"].startswith("/run/secrets/")
    assert jobs["agora-gateway"]["dns_sd_configs"][0] == {
        "names": ["gateway"], "type": "A", "port": int(port), "refresh_interval": "30s",
    }  # fmt: skip
    mounted = " ".join(services["prometheus"]["volumes"])
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in mounted


def test_grafana_dashboard_queries_series_that_exist() -> None:
    import json

    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    dashboard = json.loads((DEPLOY / "grafana/dashboards/agora-operations.json").read_text())
    exported = _exported_metric_names()
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(agora_[a-z_]+)", target["expr"]))
    assert used, "the dashboard queries nothing"
    assert used <= exported, used - exported
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/agora.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_the_kong_entrypoint_loads_the_exported_environment_and_the_ingest_token(tmp_path: Path) -> None:
    import subprocess

    from registry.compile.kong import env_file, to_kong
    from tests.registry.compile.test_kong import snapshot

    config = to_kong(snapshot())
    (tmp_path / "kong.env").write_text(env_file(config))
    (tmp_path / "token").write_text("agoradm_abcd1234_secret\n")
    fake_kong = tmp_path / "docker-entrypoint.sh"
    fake_kong.write_text('#!/bin/sh\necho "args=$*"\nenv\n')
    fake_kong.chmod(0o755)
    environment = {
        "PATH": "/usr/bin:/bin",
        "AGORA_KONG_ENV": str(tmp_path / "kong.env"),
        "AGORA_INGEST_TOKEN_FILE": str(tmp_path / "token"),
        "KONG_ENTRYPOINT": str(fake_kong),
    }
    script = COMPOSE.parent / "deploy/kong/agora-kong-entrypoint.sh"
    done = subprocess.run(
        ["sh", str(script), "kong", "docker-start"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "args=kong docker-start"
    assert "KONG_PLUGINS=bundled,agora-key-auth,agora-request-validator" in lines
    assert (
        "KONG_PLUGINSERVER_AGORA_KEY_AUTH_START_CMD=/usr/local/bin/agora-kong-plugin agora-key-auth" in lines
    )
    assert "AGORA_INGEST_TOKEN=Bearer agoradm_abcd1234_secret" in lines
    missing = subprocess.run(
        ["sh", str(script)],
        env={**environment, "AGORA_KONG_ENV": str(tmp_path / "none")},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "agora export kong" in missing.stderr
