"""Kong's environment for Agora's Python plugins: one plugin server per plugin.

Kong 3.9+ loads only the first plugin a plugin server reports, so each `agora-*` plugin gets its
own server (the dedicated-server mode of Kong's Python PDK: `<cmd> --dump` prints the plugin's
info, the socket is `<prefix>/<name>.sock`). Kong derives the variable names from the server name
with `-` turned into `_` (`pluginserver_agora_key_auth_socket`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["PLUGIN_COMMAND", "SOCKET_DIR", "env_file", "plugin_server_settings", "python_plugin_names"]

PLUGIN_COMMAND = "/usr/local/bin/agora-kong-plugin"
SOCKET_DIR = "/usr/local/kong"
_NAME = re.compile(r"agora-[a-z0-9][a-z0-9-]*")  # spliced into commands: nothing else may pass


def plugin_server_settings(names: Iterable[str]) -> dict[str, str]:
    """`KONG_*` environment (docker-compose `environment:`) enabling the given `agora-*` plugins."""
    unique = sorted(set(names))
    for name in unique:
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an Agora plugin name (agora-[a-z0-9-]+)")
    env = {"KONG_PLUGINS": ",".join(["bundled", *unique])}
    if unique:
        env["KONG_PLUGINSERVER_NAMES"] = ",".join(unique)
    for name in unique:
        var = "KONG_PLUGINSERVER_" + name.upper().replace("-", "_")
        env[f"{var}_SOCKET"] = f"{SOCKET_DIR}/{name}.sock"
        env[f"{var}_START_CMD"] = f"{PLUGIN_COMMAND} {name}"
        env[f"{var}_QUERY_CMD"] = f"{PLUGIN_COMMAND} {name} --dump"
    return env


def env_file(config: dict[str, Any]) -> str:
    """The environment file written beside `kong.yaml`: `KONG_PLUGINS` and the plugin servers of exactly
    the `agora-*` plugins `config` uses, so Kong loads every plugin the file names and no other.
    Values are single-quoted: the same file is read by a POSIX shell (`set -a; . kong.env`, how the
    compose `kong` service loads it) and by `docker run --env-file`/compose v2 `env_file`, which
    both strip the quotes."""
    lines = [
        "# Kong's plugin environment for the kong.yaml beside this file, from `agora export kong`.",
        *(f"{name}='{value}'" for name, value in plugin_server_settings(python_plugin_names(config)).items()),
    ]
    return "\n".join(lines) + "\n"


def python_plugin_names(config: dict[str, Any]) -> list[str]:
    """The `agora-*` plugins a Kong config from `to_kong` uses, sorted."""
    found: set[str] = set()

    def collect(plugins: Any) -> None:
        found.update(str(p["name"]) for p in plugins or () if str(p.get("name", "")).startswith("agora-"))

    collect(config.get("plugins"))
    for service in config.get("services") or ():
        collect(service.get("plugins"))
        for route in service.get("routes") or ():
            collect(route.get("plugins"))
    for consumer in config.get("consumers") or ():
        collect(consumer.get("plugins"))
    return sorted(found)
