"""Run the example upstreams in one process: `python -m examples.upstreams.serve [--host H]`.

Each app gets its own uvicorn server on its catalog port; the servers are gathered in one event loop
and stop together on SIGINT or SIGTERM. `--port-offset N` (or `AGORA_EXAMPLES_PORT_OFFSET`) moves
every port by N, so tests can run a second set next to a running `make run`; `--only NAME` picks one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
from collections.abc import Iterator, Sequence

import uvicorn
from starlette.applications import Starlette

from examples.catalog import EXAMPLES, by_api_slug

__all__ = ["PORT_OFFSET_ENV", "build_app", "main", "serve"]

PORT_OFFSET_ENV = "AGORA_EXAMPLES_PORT_OFFSET"


def build_app(name: str) -> Starlette:
    """The upstream app of the example API `name` (its API slug: addresses, companies, warnings)."""
    module = importlib.import_module(by_api_slug(name).upstream_module)
    app = module.create_app()
    if not isinstance(app, Starlette):
        raise TypeError(f"{module.__name__}.create_app() returned {type(app).__name__}, not a Starlette app")
    return app


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `serve`.

    uvicorn's own capture installs process-wide handlers per server: with several servers only the
    last one installed would hear SIGINT, and each re-raises the signal once it has stopped.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    host: str = "127.0.0.1", port_offset: int = 0, names: Sequence[str] = (), log_level: str = "info"
) -> None:
    """Serve the named examples (all by default) until a signal; RuntimeError if one could not start."""
    selected = [by_api_slug(name) for name in names] if names else list(EXAMPLES)
    servers = {
        example.api_slug: _Server(
            uvicorn.Config(
                build_app(example.api_slug),
                host=host,
                port=example.port + port_offset,
                log_level=log_level,
                lifespan="off",
            )
        )
        for example in selected
    }
    failed: list[str] = []

    def stop(signum: signal.Signals | None = None) -> None:
        for server in servers.values():
            # A second Ctrl+C skips waiting for open connections, as in plain uvicorn.
            if server.should_exit and signum == signal.SIGINT:
                server.force_exit = True
            server.should_exit = True

    async def run(name: str, server: _Server) -> None:
        try:
            await server.serve()
        except SystemExit:
            # uvicorn exits the process when it cannot bind (it has logged why); stopping the others
            # instead lets them close their sockets, and the caller learns which one failed.
            failed.append(name)
            stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        await asyncio.gather(*(run(name, server) for name, server in servers.items()))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if failed:
        raise RuntimeError(f"could not start {', '.join(failed)}")


def _port_offset(raw: str) -> int:
    offset = int(raw)
    lowest, highest = min(e.port for e in EXAMPLES), max(e.port for e in EXAMPLES)
    if lowest + offset < 1 or highest + offset > 65535:
        raise argparse.ArgumentTypeError(f"ports {lowest + offset}..{highest + offset} are not valid ports")
    return offset


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m examples.upstreams.serve", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port-offset",
        type=_port_offset,
        # A string default goes through `type` too, so a bad environment value is reported like a bad flag.
        default=os.environ.get(PORT_OFFSET_ENV, "0"),
        help=f"added to every default port ({', '.join(f'{e.api_slug} {e.port}' for e in EXAMPLES)}); "
        f"default: ${PORT_OFFSET_ENV} or 0",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[e.api_slug for e in EXAMPLES],
        default=[],
        help="run only this example (repeatable)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port_offset, args.only, args.log_level))
    except RuntimeError as exc:
        raise SystemExit(f"{parser.prog}: {exc}") from None


if __name__ == "__main__":
    main()
