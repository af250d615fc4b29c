"""`agora agency add-admin SLUG EMAIL`: who may decide access requests in the portal's agency console."""

from __future__ import annotations

import typer

from agora.cli.common import actor, console, sessions
from registry.services import accounts
from registry.unit_of_work import change

__all__ = ["register"]


def add_admin(
    slug: str = typer.Argument(..., help="The agency's slug"),
    email: str = typer.Argument(..., help="The admin's portal account (created, verified, if absent)"),
) -> None:
    """Make a portal account an admin of an agency (its agency console: access requests, traffic)."""
    with change(sessions()) as session:
        membership = accounts.add_agency_admin(session, agency_slug=slug, email=email, actor=actor())
        console.print(f"{membership.developer.email} is now an admin of {membership.agency.slug}")


def register(agency_app: typer.Typer) -> None:
    agency_app.command("add-admin")(add_admin)
