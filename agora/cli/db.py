"""`agora db`: schema migrations."""

from __future__ import annotations

import typer

from agora.cli.common import console, settings
from registry import migrate

__all__ = ["app"]

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    migrate.upgrade(settings().database_url, revision)
    console.print(f"database upgraded to {revision}")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base' for empty")) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(settings().database_url, revision)
    console.print(f"database downgraded to {revision}")
