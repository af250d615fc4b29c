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


DEPLOY = COMPOSE.parent / "deploy"


def _exported_metric_names() -> set[str]:
    """Every series name the gateway and the admin export, from the code that defines them."""
    from prometheus_client import generate_latest

    from gateway.circuit import Breaker, BreakerPolicy
    from gateway.config import ConfigHolder
    from gateway.metrics import GatewayMetrics

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
