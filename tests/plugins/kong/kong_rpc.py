"""Playing Kong against real kong-pdk plugin servers: the MessagePack-RPC Kong speaks, and Kong's PDK.

What Kong does (kong/runloop/plugin_servers/rpc/mp_rpc.lua, plugin.lua, process.lua), reproduced:

- `<start_cmd>` starts the server, which listens on `<prefix>/<name>.sock`; `<query_cmd>` (`--dump`)
  prints the plugin's info as JSON;
- every call is `[0, msgid, "plugin.<Method>", [args]]`, answered `[1, msgid, error, result]`;
- `plugin.StartInstance {Name, Config: <JSON text>}` once per plugin config (Kong adds `__key__`,
  `__seq__`, `__plugin_id`), then per request and phase `plugin.HandleEvent {InstanceId, EventName}`;
- while the answer's `Data` is a PDK call `{Method, Args}`, Kong runs it and answers with
  `plugin.Step` (or the typed `StepMultiMap`, `StepCredential`, `StepConsumer`, `StepRoute`,
  `StepService`; `StepError` when the PDK call failed) until `Data` is `"ret"`;
- `kong.response.exit` ends the event: Kong sends no further step for it.

`KongRequest` is Kong's side of one request: its PDK answers come from the request and from the
exported Kong config (routes matched by their regex paths as Kong's router does).
"""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import msgpack

REPO = Path(__file__).resolve().parents[3]

STEP_METHODS = {  # mp_rpc.lua get_step_method
    "kong.client.get_credential": "plugin.StepCredential",
    "kong.client.load_consumer": "plugin.StepConsumer",
    "kong.client.get_consumer": "plugin.StepConsumer",
    "kong.client.authenticate": "plugin.StepCredential",
    "kong.router.get_route": "plugin.StepRoute",
    "kong.router.get_service": "plugin.StepService",
    "kong.request.get_query": "plugin.StepMultiMap",
    "kong.request.get_headers": "plugin.StepMultiMap",
    "kong.response.get_headers": "plugin.StepMultiMap",
}
TERMINAL = ("kong.response.exit", "kong.response.error")


class RpcError(Exception):
    pass


def start_server(name: str, prefix: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`agora-kong-plugin <name> -p <prefix>` as Kong's `_start_cmd` runs it; waits for the socket."""
    log = prefix / f"{name}.log"  # the server's own output, for a failing test to show
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "plugins.kong", name, "-p", str(prefix)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    sock = prefix / f"{name}.sock"
    deadline = time.monotonic() + 20
    while not sock.exists():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{name} did not open {sock}")
        time.sleep(0.05)
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def dump(name: str) -> Any:
    """`<query_cmd>`: what Kong reads with io.popen and cjson.decode."""
    out = subprocess.run(
        [sys.executable, "-m", "plugins.kong", name, "--dump"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


class Rpc:
    """One connection to a plugin server (Kong keeps them in a keepalive pool)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.sock.settimeout(15)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.msgid = 0
        self.calls = 0

    def call(self, method: str, *args: Any) -> Any:
        self.msgid += 1
        self.calls += 1
        self.sock.sendall(msgpack.packb([0, self.msgid, method, list(args)], use_bin_type=True))
        while True:
            for message in self.unpacker:
                kind, msgid, error, result = message
                assert kind == 1 and msgid == self.msgid, message
                if error is not None:
                    raise RpcError(error)
                return result
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RpcError("connection closed")
            self.unpacker.feed(chunk)

    def close(self) -> None:
        self.sock.close()


@dataclass
class Plugin:
    """One plugin config started on its server, as Kong keeps it (`running_instances`)."""

    name: str
    rpc: Rpc
    instance: int
    priority: int


def start_instance(rpc: Rpc, name: str, config: dict[str, Any], seq: int = 1) -> int:
    kong_config = {**config, "__key__": f"plugins:{name}:{seq}", "__seq__": seq, "__plugin_id": f"id-{seq}"}
    started = rpc.call("plugin.StartInstance", {"Name": name, "Config": json.dumps(kong_config)})
    return int(started["Id"])


@functools.lru_cache(maxsize=256)
def kong_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + path[1:].replace("(?<", "(?P<"))  # Kong anchors regex paths at the start


def match_route(
    config: dict[str, Any], method: str, path: str
) -> tuple[dict[str, Any], dict[str, Any], re.Match[str]]:
    """Kong's router over the exported routes: highest `regex_priority` among those matching."""
    found = []
    for service in config["services"]:
        for route in service["routes"]:
            if method in route["methods"]:
                for p in route["paths"]:
                    m = kong_regex(p).match(path)
                    if m:
                        found.append((route["regex_priority"], service, route, m))
    assert found, f"no Kong route for {method} {path}"
    found.sort(key=lambda f: -f[0])
    return found[0][1], found[0][2], found[0][3]


@dataclass
class KongRequest:
    config: dict[str, Any]  # the exported Kong config
    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    client_ip: str = "192.0.2.10"
    # What plugins did: the upstream request, the response, Kong's ctx
    upstream_set: dict[str, str | None] = field(default_factory=dict)
    upstream_query: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # of the upstream response, in the response phase
    exit: tuple[int, bytes, dict[str, str]] | None = None
    consumer: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    logged: list[tuple[str, list[Any]]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)  # PDK methods to answer with StepError
    pdk_calls: int = 0

    def __post_init__(self) -> None:
        self.service, self.route, self.match = match_route(self.config, self.method, self.path)

    # --- Kong's PDK, as far as the plugins use it ---------------------------------------------
    def _header_map(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.headers:
            out.setdefault(name.lower(), []).append(value)
        return out  # fix_mmap: every value a list

    def _query_map(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in self.query.split("&") if self.query else ():
            name, eq, value = part.partition("=")
            out.setdefault(unquote_plus(name), [])
            if eq:
                out[unquote_plus(name)].append(unquote_plus(value))
        return out  # `?flag` (Lua true) becomes an empty array

    def pdk(self, method: str, args: list[Any]) -> Any:
        self.pdk_calls += 1
        entity = {k: v for k, v in self.route.items() if k != "plugins"}
        service = {k: v for k, v in self.service.items() if k not in ("routes", "plugins")}
        if method == "kong.request.get_header":
            values = self._header_map().get(args[0].lower())
            return values[0] if values else None
        answers = {
            "kong.request.get_headers": self._header_map,
            "kong.request.get_query": self._query_map,
            "kong.request.get_method": lambda: self.method,
            "kong.request.get_path": lambda: self.path,
            "kong.request.get_raw_path": lambda: self.path,
            "kong.request.get_raw_query": lambda: self.query,
            "kong.request.get_raw_body": lambda: self.body,
            "kong.request.get_scheme": lambda: "http",
            "kong.request.get_host": lambda: "kong.test",
            "kong.request.get_uri_captures": lambda: {
                "named": self.match.groupdict(),
                "unnamed": list(self.match.groups()),
            },
            "kong.client.get_ip": lambda: self.client_ip,
            "kong.client.get_forwarded_ip": lambda: self.client_ip,
            "kong.client.get_consumer": lambda: self.consumer,
            "kong.client.get_credential": lambda: self.credential,
            "kong.router.get_route": lambda: entity,
            "kong.router.get_service": lambda: service,
            "kong.response.get_status": lambda: self.status,
            "kong.response.get_header": lambda: self.response_headers.get(args[0].lower()),
            "kong.ctx.shared.get": lambda: self.shared.get(args[0]),
        }
        if method in answers:
            return answers[method]()
        if method == "kong.client.authenticate":
            self.consumer, self.credential = args
        elif method == "kong.client.load_consumer":
            return next((c for c in self.config["consumers"] if c["username"] == args[0]), None)
        elif method == "kong.ctx.shared.set":
            self.shared[args[0]] = args[1]
        elif method in ("kong.service.request.set_header", "kong.service.request.clear_header"):
            self.upstream_set[args[0].lower()] = args[1] if method.endswith("set_header") else None
        elif method == "kong.service.request.set_headers":
            self.upstream_set.update({k.lower(): v for k, v in args[0].items()})
        elif method == "kong.service.request.set_raw_query":
            self.upstream_query = args[0]
        elif method in ("kong.response.set_header", "kong.response.add_header"):
            self.response_headers[args[0].lower()] = str(args[1])
        elif method == "kong.response.set_headers":
            self.response_headers.update({k.lower(): str(v) for k, v in args[0].items()})
        elif method == "kong.response.clear_header":
            self.response_headers.pop(args[0].lower(), None)
        elif method.startswith("kong.log."):
            self.logged.append((method, args))
        else:
            raise AssertionError(f"PDK call not played by this Kong: {method}")
        return None

    # --- one event ---------------------------------------------------------------------------
    def event(self, plugin: Plugin, phase: str) -> None:
        """`bridge_loop`: HandleEvent, then a step per PDK call until "ret" or an exit."""
        step = plugin.rpc.call("plugin.HandleEvent", {"InstanceId": plugin.instance, "EventName": phase})
        event_id = step["EventId"]
        while step["Data"] != "ret":
            call = step["Data"]
            method, args = call["Method"], list(call["Args"] or [])
            if method in TERMINAL:
                status, body, headers = [*args, None, None][:3]
                body = body if isinstance(body, bytes) else str(body or "").encode()
                self.exit = (int(status), body, {str(k).lower(): str(v) for k, v in (headers or {}).items()})
                return  # Kong's exit yields the plugin's coroutine: no step follows
            if method in self.fail:
                step = plugin.rpc.call("plugin.StepError", {"EventId": event_id, "Data": "simulated failure"})
                continue
            result = self.pdk(method, args)
            step_method = STEP_METHODS.get(method, "plugin.Step")
            step = plugin.rpc.call(step_method, {"EventId": event_id, "Data": result})

    def run(self, plugins: list[Plugin], phase: str = "access") -> None:
        for plugin in sorted(plugins, key=lambda p: -p.priority):
            self.event(plugin, phase)
            if self.exit is not None:
                return
