"""Gateway settings, from environment variables (uvicorn's workers build the app from them).

AGORA_GATEWAY_SNAPSHOT         serve this snapshot file (DB-less); else the database is polled
AGORA_DATABASE_URL             default sqlite:///var/agora.db under the working directory
AGORA_GATEWAY_CACHE            last good snapshot kept here (default var/gateway-snapshot.json)
AGORA_GATEWAY_POLL_INTERVAL    seconds between polls of the source (default 0.5)
AGORA_GATEWAY_TRUSTED_PROXIES  comma-separated networks whose X-Forwarded-For is believed
AGORA_GATEWAY_PLUGIN_PACKAGES  comma-separated packages to discover plugins in (default plugins)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError("poll_interval must be positive")

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
        )
