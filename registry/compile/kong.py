"""`agora export kong`: the snapshot (docs/snapshot.md) as a Kong 3 declarative config.

    to_kong(snapshot)  ->  {"_format_version": "3.0", "_transform": True,
                            "services": [...], "consumers": [...], "plugins": [...]}
    dump(config)       ->  YAML for `KONG_DECLARATIVE_CONFIG`, `kong config db_import` or decK,
                           headed by a YAML comment naming the snapshot (decK's schema allows no
                           `_comment` key)

One Kong service per snapshot service (kong_services.py), one regex route per operation
(kong_routes.py), Agora plugin entries mapped to Kong's bundled plugins or to Agora's Python
plugins (kong_plugins.py), one consumer per application with its grant groups and plan limits
(kong_consumers.py), one global `http-log` feeding Agora's usage metering, and global
`correlation-id` (`X-Request-ID`) and `prometheus`. The output is a
pure function of the snapshot: everything is sorted and nothing depends on the clock. No secret
is exported (docs/kong.md).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import yaml

from agora.errors import InvalidInput
from registry.compile.kong_consumers import consumers, plan_rate_limits, usernames
from registry.compile.kong_pluginserver import env_file, plugin_server_settings, python_plugin_names
from registry.compile.kong_ratelimit import ratelimit_fields_plugin
from registry.compile.kong_services import service as kong_service

__all__ = [
    "DEFAULT_INGEST_CREDENTIAL",
    "DEFAULT_METERING_ENDPOINT",
    "RedisTarget",
    "dump",
    "env_file",
    "plugin_server_settings",
    "python_plugin_names",
    "to_kong",
]

DEFAULT_METERING_ENDPOINT = "http://agora-admin:8001/admin/usage/ingest"
# The whole Authorization value of the metering posts, resolved by Kong's env vault from the variable
# AGORA_INGEST_TOKEN (Kong upper-cases the name and turns `-` into `_`), which holds
# `Bearer <usage-ingest token>`: Kong resolves a reference only when it is the whole field value.
DEFAULT_INGEST_CREDENTIAL = "{vault://env/agora-ingest-token}"
_SNAPSHOT_TAG = "agora-snapshot:"
_VAULT_REFERENCE = re.compile(r"\{vault://[a-z0-9_-]+/[^{}\s]+\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisTarget:
    """Where Kong's rate-limiting plugin keeps its counters (`policy: redis`), shared by all nodes.

    `password` is never a password: only a Kong vault reference such as
    `{vault://env/agora-redis-password}` is accepted, so the export stays free of secrets.
    """

    host: str
    port: int = 6379
    database: int = 0
    timeout_ms: int = 2000
    ssl: bool = False
    password: str | None = None

    def __post_init__(self) -> None:
        if not self.host or not 0 < self.port < 65536 or self.database < 0 or self.timeout_ms <= 0:
            raise InvalidInput(f"kong export: invalid Redis target {self.host}:{self.port}/{self.database}")
        if self.password is not None and not _VAULT_REFERENCE.fullmatch(self.password):
            raise InvalidInput(
                "kong export: the Redis password must be a Kong vault reference ({vault://...})"
            )

    def kong_config(self) -> dict[str, Any]:
        redis: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "timeout": self.timeout_ms,
            "ssl": self.ssl,
        }
        if self.password is not None:
            redis["password"] = self.password
        return {"policy": "redis", "redis": redis}


def _key_names(services: list[dict[str, Any]]) -> list[str]:
    names = {"apikey"}
    for service in services:
        entries = [
            *(service.get("plugins") or ()),
            *(p for r in service.get("routes") or () for p in r.get("plugins") or ()),
        ]
        for entry in entries:
            if entry.get("name") == "key-auth":
                names.update(str(n) for n in (entry.get("config") or {}).get("key_names") or ())
    return sorted(n.lower() for n in names if re.fullmatch(r"[A-Za-z0-9_-]+", n))


def _metering(endpoint: str, credential: str, snapshot_id: str, key_names: list[str]) -> dict[str, Any]:
    """One global http-log: Kong batches log entries and posts them as JSON arrays to Agora, with a
    usage-ingest token named by a vault reference. Keys never reach the log: their headers, the query
    string and the full URLs are dropped, the URI cut to its path (the ingest endpoint reads none of
    them either)."""
    if not _VAULT_REFERENCE.fullmatch(credential):
        raise InvalidInput(
            "kong export: the metering credential must be a Kong vault reference such as "
            f"{DEFAULT_INGEST_CREDENTIAL}, never a token in clear"
        )
    fields = {f"request.headers.{n}": "return nil" for n in [*key_names, "authorization"]}
    fields.update({"request.querystring": "return nil", "request.url": "return nil"})
    fields["upstream_uri"] = "return nil"  # Kong appends the client's query string to it
    fields["request.uri"] = "return kong.request.get_path()"
    config: dict[str, Any] = {
        "http_endpoint": endpoint,
        "method": "POST",
        "content_type": "application/json",
        "timeout": 10000,
        "keepalive": 60000,
        "queue": {
            "max_batch_size": 200,
            "max_coalescing_delay": 1,
            "max_entries": 100000,
            "max_retry_time": 60,
        },
        "custom_fields_by_lua": dict(sorted(fields.items())),
    }
    config["headers"] = {"Authorization": credential}
    if snapshot_id:
        config["headers"]["X-Agora-Snapshot"] = snapshot_id
    tags = ["agora", "agora-metering"] + ([_SNAPSHOT_TAG + snapshot_id] if snapshot_id else [])
    return {"name": "http-log", "config": config, "tags": tags}


def _observability() -> list[dict[str, Any]]:
    """Global `correlation-id` and `prometheus`. The gateway answers every call with `X-Request-ID`
    (kept from a sane client value, else generated) and problem documents ask callers to quote it:
    Kong's correlation-id does the same with `echo_downstream`. Kong's prometheus plugin serves its
    series on Kong's Status API (`KONG_STATUS_LISTEN`, `/metrics`); docs/operators/monitoring.md says
    which dashboard panels have a Kong counterpart."""
    tags = ["agora", "agora-observability"]
    return [
        {
            "name": "correlation-id",
            "config": {"header_name": "X-Request-ID", "generator": "uuid", "echo_downstream": True},
            "tags": tags,
        },
        {
            "name": "prometheus",
            "config": {
                "per_consumer": False,  # one series per application would grow without bound
                "status_code_metrics": True,
                "latency_metrics": True,
                "bandwidth_metrics": True,
                "upstream_health_metrics": False,  # services are URLs, not Kong upstreams with targets
            },
            "tags": tags,
        },
    ]


def to_kong(
    snapshot: dict[str, Any],
    *,
    python_plugins_everywhere: bool = False,
    metering_endpoint: str = DEFAULT_METERING_ENDPOINT,
    metering_credential: str = DEFAULT_INGEST_CREDENTIAL,
    redis: RedisTarget | None = None,
) -> dict[str, Any]:
    """The Kong declarative config (format 3.0) equivalent to `snapshot`; raises `InvalidInput`.
    `metering_credential` is the vault reference Kong resolves to the metering posts' Authorization."""
    if not isinstance(snapshot, dict) or snapshot.get("format") != 1:
        raise InvalidInput("kong export: unsupported or missing snapshot 'format' (expected 1)")
    snapshot_id = str(snapshot.get("id") or "")
    backend = redis.kong_config() if redis is not None else {"policy": "local"}
    docs = sorted(snapshot.get("services") or (), key=lambda s: str(s["name"]))
    if len({str(s["name"]) for s in docs}) != len(docs):
        raise InvalidInput("kong export: two snapshot services share a name")
    prefixes = {str(s["name"]): str(s["prefix"]) for s in docs}
    apps = list(snapshot.get("consumers") or ())
    names = usernames(apps)

    plugins = [
        _metering(metering_endpoint, metering_credential, snapshot_id, _key_names(docs)),
        *_observability(),
    ]
    if python_plugins_everywhere:
        # Agora's plugin reads plans and grants from the snapshot at run time.
        plugins.append({"name": "agora-rate-limiting", "config": {}, "tags": ["agora"]})
    else:
        # Kong's rate-limiting sends no draft RateLimit fields; Agora's plugin (above) sends its own.
        plugins.append(ratelimit_fields_plugin())
        restricted: dict[str, list[str]] = defaultdict(list)
        for doc in docs:
            if doc.get("access") == "restricted" and doc.get("status") != "retired":
                restricted[f"{doc['agency']}/{doc['api']}"].append(str(doc["name"]))
        plugins += plan_rate_limits(apps, names, dict(snapshot.get("plans") or {}), restricted, backend)

    return {
        "_format_version": "3.0",
        "_transform": True,
        "services": [kong_service(doc, backend, python_plugins_everywhere, prefixes) for doc in docs],
        "consumers": consumers(apps, names),
        "plugins": sorted(
            plugins, key=lambda p: (str(p["name"]), str(p.get("consumer", "")), str(p.get("service", "")))
        ),
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # entities share their tag lists; YAML anchors would only obscure the file


def _snapshot_id(config: dict[str, Any]) -> str:
    for plugin in config.get("plugins") or ():
        for tag in plugin.get("tags") or ():
            if str(tag).startswith(_SNAPSHOT_TAG):
                return str(tag).removeprefix(_SNAPSHOT_TAG)
    return "(no id)"


def dump(config: dict[str, Any]) -> str:
    """YAML in `config`'s own (stable) key order, without anchors; long lines are never folded. The
    snapshot id (from the metering plugin's tags) heads the file as a comment."""
    header = (
        f"# Agora snapshot {_snapshot_id(config)}, exported by `agora export kong`.\n"
        "# Edit the registry and export again rather than editing this file.\n"
    )
    return header + yaml.dump(
        config, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 16
    )
