"""`agora developer`, `agora app`, `agora key`, `agora grant`: the consumers' side, for operators."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table
from sqlalchemy import select

from agora.cli.common import actor, console, sessions, settings
from agora.errors import InvalidInput, NotFound
from registry.models import Credential, GrantState
from registry.services import apis, applications, grants, plans
from registry.unit_of_work import change, read

__all__ = ["application_app", "developer_app", "grant_app", "key_app"]

developer_app = typer.Typer(help="Developers (third parties building on the APIs).", no_args_is_help=True)
application_app = typer.Typer(help="Applications of developers.", no_args_is_help=True)
key_app = typer.Typer(help="API keys: issue, rotate with an overlap, revoke.", no_args_is_help=True)
grant_app = typer.Typer(help="Access grants for restricted APIs.", no_args_is_help=True)


@developer_app.command("create")
def developer_create(
    email: str = typer.Argument(..., help="The developer's email"),
    name: str = typer.Option("", "--name", help="Display name"),
) -> None:
    """Register a developer (verified: created by an operator)."""
    with change(sessions()) as session:
        applications.create_developer(session, email=email, name=name, verified=True, actor=actor())
    console.print(f"developer {email} created")


@application_app.command("create")
def app_create(
    developer: str = typer.Option(..., "--developer", help="Owner's email"),
    name: str = typer.Option(..., "--name", help="Application name"),
    plan: str = typer.Option(..., "--plan", help="Plan slug for key-level APIs"),
    organisation: str = typer.Option(
        "", "--organisation", help="The body it acts for, shown to people whose data it reads"
    ),
) -> None:
    """Create an application; prints its id."""
    with change(sessions()) as session:
        owner = applications.get_developer(session, developer)
        row = applications.create_application(
            session,
            developer=owner,
            name=name,
            plan=plans.get_plan(session, plan),
            organisation=organisation,
            actor=actor(),
        )
        console.print(row.id)


@application_app.command("organisation")
def app_organisation(
    application: str = typer.Argument(..., help="Application id"),
    organisation: str = typer.Argument(..., help='The body it acts for ("" for none)'),
) -> None:
    """Set the organisation an application acts for (an operator's correction: no agency is asked)."""
    with change(sessions()) as session:
        row = applications.set_organisation(
            session, applications.get_application(session, application), organisation, actor=actor()
        )
        console.print(f"application {row.id} acts for {row.organisation or 'no organisation'}")


@key_app.command("issue")
def key_issue(
    application: str = typer.Argument(..., help="Application id"),
    sandbox: bool = typer.Option(False, "--sandbox", help="A sandbox key: answered from the spec's examples"),
) -> None:
    """Issue an API key. The key is printed once and never stored."""
    with change(sessions()) as session:
        row = applications.get_application(session, application)
        _, secret = applications.issue_key(
            session, row, hmac_key=settings().hmac_key, sandbox=sandbox, actor=actor()
        )
    print(secret)


@key_app.command("rotate")
def key_rotate(
    prefix: str = typer.Argument(..., help="The key's prefix, e.g. agora_1a2b3c4d"),
    overlap_hours: float = typer.Option(24.0, "--overlap-hours", help="How long the old key keeps working"),
) -> None:
    """Issue a replacement key; the old one keeps working during the overlap."""
    with change(sessions()) as session:
        old = session.scalar(select(Credential).where(Credential.prefix == prefix))
        if old is None:
            raise NotFound(f"no key with prefix {prefix}")
        _, secret = applications.rotate_key(
            session, old, hmac_key=settings().hmac_key, overlap=timedelta(hours=overlap_hours), actor=actor()
        )
    print(secret)


@key_app.command("revoke")
def key_revoke(
    prefix: str = typer.Argument(..., help="The key's prefix"),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
) -> None:
    """Revoke a key at once."""
    with change(sessions()) as session:
        row = session.scalar(select(Credential).where(Credential.prefix == prefix))
        if row is None:
            raise NotFound(f"no key with prefix {prefix}")
        applications.revoke_key(session, row, reason=reason, actor=actor())
    console.print(f"key {prefix} revoked")


@grant_app.command("request")
def grant_request(
    application: str = typer.Argument(..., help="Application id"),
    api: str = typer.Argument(..., help="AGENCY/API"),
    plan: str = typer.Option(..., "--plan", help="Plan slug"),
    justification: str = typer.Option("", "--justification", help="Why the application needs it"),
    purpose: str | None = typer.Option(
        None, "--purpose", help="Why it reads the personal data (required for an API with personal data)"
    ),
    legal_basis: str | None = typer.Option(
        None, "--legal-basis", help="One of the legal bases the API declares (its id), for personal data"
    ),
) -> None:
    """Ask for access to a restricted API; prints the grant id."""
    agency, _, slug = api.partition("/")
    with change(sessions()) as session:
        grant = grants.request_access(
            session,
            application=applications.get_application(session, application),
            api=apis.get_api(session, agency, slug),
            plan=plans.get_plan(session, plan),
            justification=justification,
            purpose=purpose,
            legal_basis=legal_basis,
            actor=actor(),
        )
        console.print(str(grant.id))


@grant_app.command("decide")
def grant_decide(
    grant_id: int = typer.Argument(..., help="Grant id"),
    state: str = typer.Argument(..., help="approved, refused or revoked"),
    reason: str | None = typer.Option(None, "--reason", help="Required to refuse or revoke"),
) -> None:
    """Approve, refuse or revoke an access grant."""
    try:
        target = GrantState(state)
    except ValueError as exc:
        raise InvalidInput(f"state {state!r} must be approved, refused or revoked") from exc
    with change(sessions()) as session:
        grants.decide(session, grants.get_grant(session, grant_id), target, reason=reason, actor=actor())
    console.print(f"grant {grant_id} {target.value}")


@grant_app.command("list")
def grant_list(state: str | None = typer.Option(None, "--state", help="Only this state")) -> None:
    """List access grants."""
    table = Table("id", "application", "api", "plan", "state", "legal basis", "purpose", "reason")
    with read(sessions()) as session:
        for grant in grants.list_grants(session, state=GrantState(state) if state else None):
            api = f"{grant.api.agency.slug}/{grant.api.slug}"
            table.add_row(
                str(grant.id),
                grant.application_id,
                api,
                grant.plan.slug,
                grant.state.value,
                grant.legal_basis or "",
                grant.purpose or "",
                grant.reason or "",
            )
    console.print(table)
