"""`agora plan`: rate-limit plans."""

from __future__ import annotations

import typer
from rich.table import Table

from agora.cli.common import actor, console, sessions
from registry.models import PERIODS
from registry.services import agencies, plans
from registry.unit_of_work import change, read

__all__ = ["app"]

app = typer.Typer(help="Plans: rate limits per second, minute, hour, day and month.", no_args_is_help=True)

_SECOND = typer.Option(None, "--per-second", help="Calls allowed per second")
_MINUTE = typer.Option(None, "--per-minute", help="Calls allowed per minute")
_HOUR = typer.Option(None, "--per-hour", help="Calls allowed per hour")
_DAY = typer.Option(None, "--per-day", help="Calls allowed per day")
_MONTH = typer.Option(None, "--per-month", help="Calls allowed per month")


@app.command("create")
def plan_create(
    slug: str = typer.Argument(..., help="Plan identifier, e.g. 'free'"),
    name: str = typer.Option(..., "--name", help="Display name"),
    agency: str | None = typer.Option(None, "--agency", help="Owning agency (default: platform-wide)"),
    description: str = typer.Option("", "--description", help="What the plan is for"),
    approval: bool = typer.Option(
        False,
        "--approval/--self-service",
        help="Subscriptions wait for the agency's approval (default: self-service)",
    ),
    per_second: int | None = _SECOND,
    per_minute: int | None = _MINUTE,
    per_hour: int | None = _HOUR,
    per_day: int | None = _DAY,
    per_month: int | None = _MONTH,
) -> None:
    """Create a plan."""
    limits = dict(zip(PERIODS, (per_second, per_minute, per_hour, per_day, per_month), strict=True))
    with change(sessions()) as session:
        owner = agencies.get_agency(session, agency) if agency else None
        plans.create_plan(
            session,
            slug=slug,
            name=name,
            description=description,
            limits=limits,
            approval_required=approval,
            agency=owner,
            actor=actor(),
        )
    console.print(f"plan {slug} created")


@app.command("update")
def plan_update(
    slug: str = typer.Argument(..., help="Plan identifier"),
    per_second: int | None = _SECOND,
    per_minute: int | None = _MINUTE,
    per_hour: int | None = _HOUR,
    per_day: int | None = _DAY,
    per_month: int | None = _MONTH,
    approval: bool | None = typer.Option(
        None, "--approval/--self-service", help="Whether subscriptions wait for the agency's approval"
    ),
) -> None:
    """Change the limits (and approval) given; the others stay as they are."""
    given = dict(zip(PERIODS, (per_second, per_minute, per_hour, per_day, per_month), strict=True))
    with change(sessions()) as session:
        plan = plans.get_plan(session, slug)
        limits = {**plan.limits(), **{k: v for k, v in given.items() if v is not None}}
        plans.update_plan(session, plan, limits=limits, approval_required=approval, actor=actor())
    console.print(f"plan {slug} updated")


@app.command("list")
def plan_list() -> None:
    """List plans and their limits."""
    table = Table("slug", "name", "subscribing", *PERIODS)
    with read(sessions()) as session:
        for plan in plans.list_plans(session):
            table.add_row(
                plan.slug,
                plan.name,
                "approval" if plan.approval_required else "self-service",
                *("-" if v is None else str(v) for v in plan.limits().values()),
            )
    console.print(table)
