"""`agora token`: admin API tokens."""

from __future__ import annotations

import typer

from agora.cli.common import actor, sessions, settings
from registry.models import Role
from registry.services import agencies, tokens
from registry.unit_of_work import change

__all__ = ["app"]

app = typer.Typer(help="Admin API tokens.", no_args_is_help=True)


@app.command("create")
def token_create(
    name: str = typer.Argument(..., help="Who or what uses the token"),
    role: Role = typer.Option(..., "--role", help="platform-admin, agency-admin, ops or usage-ingest"),
    agency: list[str] | None = typer.Option(None, "--agency", help="Agency slug (agency-admin; repeatable)"),
) -> None:
    """Create an admin token; it is printed once and stored only as a digest."""
    with change(sessions()) as session:
        scoped = [agencies.get_agency(session, slug) for slug in agency or []]
        _, secret = tokens.create_token(
            session, name=name, role=role, agencies=scoped, hmac_key=settings().hmac_key, actor=actor()
        )
    print(secret)
