"""`agora config compile` and `agora export kong`: what the registry compiles for the data planes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from agora.cli.common import sessions
from agora.errors import NotFound
from registry import snapshots
from registry.unit_of_work import change, read

__all__ = ["config_app", "export_app"]

config_app = typer.Typer(help="The compiled gateway configuration (snapshot).", no_args_is_help=True)
export_app = typer.Typer(help="Exports for other data planes.", no_args_is_help=True)


def _write(text: str, output: Path | None) -> None:
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        if not text.endswith("\n"):
            sys.stdout.write("\n")
    else:
        output.write_text(text)


@config_app.command("compile")
def compile_config(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Also write the snapshot here ('-': stdout)"
    ),
) -> None:
    """Compile the registry into a snapshot; store it as a new revision when its content changed."""
    with change(sessions()) as session:
        row = snapshots.refresh(session)
        current = row or snapshots.latest(session)
        assert current is not None
        document, revision, ident = dict(current.document), current.revision, current.id
    if output is not None:
        _write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False), output)
    # Status on stderr, so `-o -` pipes clean JSON.
    print(f"snapshot {ident} revision {revision}" + (" (new)" if row else " (unchanged)"), file=sys.stderr)


@export_app.command("kong")
def export_kong(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the YAML here (default: stdout)"),
    env_output: Path | None = typer.Option(
        None,
        "--env-output",
        help="Write Kong's plugin environment here (default: kong.env beside --output; none on stdout)",
    ),
    python_plugins: bool = typer.Option(
        False,
        "--python-plugins",
        help="Run every plugin through Agora's plugin servers, none of Kong's bundled",
    ),
) -> None:
    """Write a Kong declarative config (_format_version 3.0) from the newest snapshot, and beside it the
    KONG_PLUGINS / KONG_PLUGINSERVER_* settings for exactly the Agora plugins it uses."""
    from registry.compile import kong

    with read(sessions()) as session:
        document = snapshots.load(session)
    if document is None:
        raise NotFound("no snapshot compiled yet: run `agora config compile` first")
    config = kong.to_kong(document, python_plugins_everywhere=python_plugins)
    _write(kong.dump(config), output)
    if env_output is None and output is not None and str(output) != "-":
        env_output = output.with_name("kong.env")
    if env_output is not None:
        _write(kong.env_file(config), env_output)
