"""The `agora` command line. Errors print one line and exit with the error tree's exit code."""

from __future__ import annotations

import sys

import typer

from agora.errors import AgoraError, SpecInvalid, SpecRefused

__all__ = ["app", "main"]

app = typer.Typer(
    name="agora",
    help="Agora: publish agencies' APIs, run the gateway, serve the portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from agora.cli import analytics, catalog, config, consumers, db, members, plans, serve, tokens
    from devportal import cli as portal

    app.add_typer(db.app, name="db")
    app.add_typer(catalog.agency_app, name="agency")
    app.add_typer(catalog.api_app, name="api")
    app.add_typer(plans.app, name="plan")
    app.add_typer(consumers.developer_app, name="developer")
    app.add_typer(consumers.application_app, name="app")
    app.add_typer(consumers.key_app, name="key")
    app.add_typer(consumers.grant_app, name="grant")
    app.add_typer(tokens.app, name="token")
    app.add_typer(config.config_app, name="config")
    app.add_typer(config.export_app, name="export")
    serve.register(app)
    members.register(catalog.agency_app)
    app.add_typer(portal.app, name="portal")
    app.add_typer(analytics.app, name="analytics")


_register()


def _usage_error(exc: Exception) -> tuple[str, int] | None:
    """Typer's parser errors (its vendored click's ClickException family), as one line and a code."""
    if any(cls.__name__ == "ClickException" for cls in type(exc).__mro__):
        message = exc.format_message()  # type: ignore[attr-defined]
        return message, int(exc.exit_code)  # type: ignore[attr-defined]
    return None


def main() -> None:
    try:
        result = app(standalone_mode=False)
    except SpecRefused as exc:  # platform policy: no flag lets it through
        more = f" (and {len(exc.findings) - 1} more)" if len(exc.findings) > 1 else ""
        print(f"error: spec refused by platform policy: {exc.findings[0]}{more}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except SpecInvalid as exc:
        # Every finding would not fit one line: count, first, and where to see them all.
        first = exc.findings[0]
        print(
            f"error: spec refused: {len(exc.findings)} findings, first {first}; "
            "`agora api check FILE` lists them all, --accept-findings publishes anyway",
            file=sys.stderr,
        )
        sys.exit(exc.exit_code)
    except AgoraError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        usage = _usage_error(exc)
        if usage is None:
            raise
        if usage[0]:  # empty for "no arguments: help shown"
            print(f"error: {usage[0]} (see --help)", file=sys.stderr)
        sys.exit(usage[1])
    sys.exit(result if isinstance(result, int) else 0)
