"""`agora-kong-plugin agora-<name> [kong-pdk options]`: one dedicated kong-pdk plugin server per plugin.

Kong 3.9 and later load only the first plugin a plugin server reports, so each Agora plugin gets a
server of its own, as `registry.compile.kong.plugin_server_settings` configures Kong:

    agora-kong-plugin agora-key-auth --dump        plugin info for Kong's `_query_cmd` (JSON, one plugin)
    agora-kong-plugin agora-key-auth [-p PREFIX]   serve `<PREFIX>/agora-key-auth.sock` (default
                                                   /usr/local/kong), Kong's `_start_cmd`

Everything after the name goes to kong-pdk's own parser (`-p/--kong-prefix`, `--socket-name`, `-v`,
`-g`/`-m`). PDK calls always raise on error (kong-pdk's `--no-lua-style`), as gateway/pipeline/pdk.py does.

Nginx clears the environment of Kong's workers, which start the plugin servers, so settings (the
platform HMAC key for key-auth, `AGORA_SNAPSHOT`...) may also come from the file named by
`AGORA_KONG_ENV_FILE` (default `/run/secrets/agora-kong-plugins`): `NAME=value` lines, never
overriding what the environment already has.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.pipeline.plugin_host import PluginSpec

__all__ = ["DEFAULT_ENV_FILE", "load_env_file", "load_spec", "main"]

DEFAULT_ENV_FILE = "/run/secrets/agora-kong-plugins"
PREFIX = "agora-"
USAGE = "usage: agora-kong-plugin agora-<plugin> [--dump] [-p PREFIX] [kong-pdk options]"


def load_env_file(path: str | os.PathLike[str]) -> None:
    file = Path(path)
    if not file.is_file():
        return
    for line in file.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name.strip(), value.strip())


def load_spec(server_name: str) -> PluginSpec:
    """The Agora plugin behind `agora-<name>` (plugins/<name_with_underscores>/handler.py)."""
    name = server_name.removeprefix(PREFIX)
    if not server_name.startswith(PREFIX) or not name.replace("-", "").isalnum() or name != name.lower():
        raise SystemExit(f"{server_name!r} is not an Agora plugin server name (agora-<plugin>)\n{USAGE}")
    try:
        module = importlib.import_module(f"plugins.{name.replace('-', '_')}.handler")
    except ModuleNotFoundError as exc:
        raise SystemExit(f"no Agora plugin {name!r}: {exc}") from exc
    return PluginSpec.from_module(name, module)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        raise SystemExit(USAGE)
    server_name, rest = args[0], args[1:]
    load_env_file(os.environ.get("AGORA_KONG_ENV_FILE") or DEFAULT_ENV_FILE)
    spec = load_spec(server_name)

    # Imported here: kong-pdk pulls in gevent, which nothing else of Agora needs.
    from kong_pdk.cli import start_dedicated_server  # type: ignore[import-untyped]

    from .adapter import plugin_class
    from .schema import kong_fields
    from .snapshot import SnapshotFile

    if "--no-lua-style" not in rest:
        rest.append("--no-lua-style")
    sys.argv = [f"agora-kong-plugin {server_name}", *rest]  # kong-pdk parses sys.argv itself
    start_dedicated_server(
        server_name, plugin_class(spec, SnapshotFile()), spec.version, spec.priority, kong_fields(spec)
    )


if __name__ == "__main__":
    main()
