"""`agora analytics`: the analytics jobs by hand (the admin process also runs them on a schedule)."""

from __future__ import annotations

from dataclasses import replace

import typer
from sqlalchemy.exc import OperationalError

from agora.cli.common import console, sessions
from agora.errors import Unavailable
from registry.analytics.retention import Retention, prune
from registry.analytics.rollup import rollup

__all__ = ["app"]

app = typer.Typer(help="Usage rollups and the retention policy.", no_args_is_help=True)


@app.command("rollup")
def rollup_command(
    until_done: bool = typer.Option(True, help="Repeat until every raw record is folded in (a backlog)"),
) -> None:
    """Fold new usage records into the per-minute, per-hour and per-day rollups."""
    total = 0
    try:
        while True:
            with sessions().begin() as session:
                result = rollup(session)
            total += result.records
            if not until_done or result.records == 0:
                break
    except OperationalError as exc:
        raise Unavailable(f"the registry database is unavailable: {exc.orig or exc}") from exc
    console.print(f"rolled up {total} records (last record id {result.last_record_id})")


@app.command("prune")
def prune_command(
    older_than: int | None = typer.Option(
        None,
        "--older-than",
        min=1,
        help="Days of raw records to keep (default AGORA_USAGE_RETENTION_DAYS, 90)",
    ),
) -> None:
    """Apply the retention policy: delete raw records and fine rollups past their retention."""
    retention = Retention.from_env()
    if older_than is not None:
        retention = replace(retention, raw_days=older_than)
    try:
        with sessions().begin() as session:
            result = prune(session, retention)
    except OperationalError as exc:
        raise Unavailable(f"the registry database is unavailable: {exc.orig or exc}") from exc
    console.print(
        f"deleted {result.records} raw records and {result.health_samples} health samples older than "
        f"{retention.raw_days} days, {result.minute_rows} minute and {result.hour_rows} hour rollup rows, "
        f"{result.personal_data_accesses} accesses to personal data past their retention"
    )
