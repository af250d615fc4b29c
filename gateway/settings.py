"""Gateway settings, from environment variables (uvicorn's workers build the app from them).

AGORA_GATEWAY_SNAPSHOT         serve this snapshot file (DB-less); else the database is polled
AGORA_DATABASE_URL             default sqlite:///var/agora.db under the working directory
AGORA_GATEWAY_CACHE            last good snapshot kept here (default var/gateway-snapshot.json)
AGORA_GATEWAY_POLL_INTERVAL    seconds between polls of the source (default 0.5)
AGORA_GATEWAY_TRUSTED_PROXIES  comma-separated networks whose X-Forwarded-For is believed
AGORA_GATEWAY_PLUGIN_PACKAGES  comma-separated packages to discover plugins in (default plugins)
AGORA_GATEWAY_HEALTH_CHECKS    `off`: no active probes of the upstreams (default on)
AGORA_GATEWAY_HEALTH_INTERVAL  seconds between active health probes of each upstream (default 5)
AGORA_GATEWAY_HEALTH_SAMPLES   `database`: write health samples to AGORA_DATABASE_URL (the default when
                               polling the database), `off` (the default with a snapshot file)
AGORA_GATEWAY_CIRCUIT_COOLDOWN seconds an open circuit answers 503 before a trial request (default 5)
AGORA_ALLOWED_UPSTREAM_HOSTS   hosts (or addresses) the operator allows although they are inside (loopback,
                               private...): an upstream named by a DNS name is checked when the gateway
                               connects, against what the name resolves to then (agora/addresses.py)
AGORA_GATEWAY_UPSTREAM_CA      a PEM bundle of CAs trusted for `https://` upstreams besides the system's
                               (a private CA)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agora.addresses import allowed_hosts_from_env

__all__ = ["GatewaySettings"]


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewaySettings:
    snapshot: Path | None = None
    database_url: str = ""
    cache: Path | None = None
    poll_interval: float = 0.5
    trusted_proxies: tuple[str, ...] = ()
    plugin_packages: tuple[str, ...] = ("plugins",)
    health_checks: bool = True
    health_interval: float = 5.0
    health_samples: bool = False
    circuit_cooldown: float = 5.0
    allowed_upstream_hosts: tuple[str, ...] = ()
    upstream_ca: Path | None = None

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        if self.health_interval <= 0 or self.circuit_cooldown <= 0:
            raise ValueError("health_interval and circuit_cooldown must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        var = Path.cwd() / "var"
        snapshot = env.get("AGORA_GATEWAY_SNAPSHOT")
        cache = env.get("AGORA_GATEWAY_CACHE")
        return cls(
            snapshot=Path(snapshot) if snapshot else None,
            database_url=env.get("AGORA_DATABASE_URL") or "sqlite:///" + str(var / "agora.db"),
            cache=None if snapshot else Path(cache) if cache else var / "gateway-snapshot.json",
            poll_interval=float(env.get("AGORA_GATEWAY_POLL_INTERVAL") or 0.5),
            trusted_proxies=_list(env.get("AGORA_GATEWAY_TRUSTED_PROXIES")),
            plugin_packages=_list(env.get("AGORA_GATEWAY_PLUGIN_PACKAGES")) or ("plugins",),
            health_checks=env.get("AGORA_GATEWAY_HEALTH_CHECKS", "on") != "off",
            health_interval=float(env.get("AGORA_GATEWAY_HEALTH_INTERVAL") or 5.0),
            health_samples=(env.get("AGORA_GATEWAY_HEALTH_SAMPLES") or ("off" if snapshot else "database"))
            == "database",
            circuit_cooldown=float(env.get("AGORA_GATEWAY_CIRCUIT_COOLDOWN") or 5.0),
            allowed_upstream_hosts=allowed_hosts_from_env(env),
            upstream_ca=Path(ca) if (ca := env.get("AGORA_GATEWAY_UPSTREAM_CA")) else None,
        )
