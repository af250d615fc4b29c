"""`agora agency` and `agora api`: the catalogue of agencies and their published APIs."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from agora.cli.common import actor, console, print_json, sessions, settings
from agora.errors import InvalidInput, SpecInvalid
from registry import specs
from registry.admin.views import api_view, version_detail_view
from registry.models import AccessLevel
from registry.services import agencies, apis
from registry.specs.personal_data import personal_data_findings
from registry.unit_of_work import change, read
from registry.versions import coerce_semver

__all__ = ["agency_app", "api_app"]

agency_app = typer.Typer(help="Agencies: the publishers.", no_args_is_help=True)
api_app = typer.Typer(help="APIs: publish specs, list, show, deprecate, retire.", no_args_is_help=True)


@agency_app.command("create")
def agency_create(
    slug: str = typer.Argument(..., help="Short identifier used in URLs, e.g. 'cadastre'"),
    name: str = typer.Option(..., "--name", help="The agency's full name"),
    contact: str | None = typer.Option(None, "--contact", help="Contact email"),
    website: str | None = typer.Option(None, "--website", help="Website URL"),
) -> None:
    """Create an agency."""
    with change(sessions()) as session:
        agency = agencies.create_agency(
            session, slug=slug, name=name, contact_email=contact, website=website, actor=actor()
        )
        console.print(f"agency {agency.slug} created")


@agency_app.command("list")
def agency_list() -> None:
    """List agencies."""
    table = Table("slug", "name", "contact", "website")
    with read(sessions()) as session:
        for agency in agencies.list_agencies(session):
            table.add_row(agency.slug, agency.name, agency.contact_email or "", agency.website or "")
    console.print(table)


def _split(ref: str) -> tuple[str, str]:
    agency, sep, api = ref.partition("/")
    if not sep or not agency or not api:
        raise InvalidInput(f"{ref!r} should be AGENCY/API, e.g. cadastre/addresses")
    return agency, api


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from exc


@api_app.command("check")
def api_check(file: Path = typer.Argument(..., help="The spec to validate")) -> None:
    """Validate a spec without publishing it: every finding, one per line, with its JSON location."""
    document = specs.load_spec(_read(file), file.name, limits=settings().spec_limits)
    findings = specs.validate_spec(document)
    if not any(f.rule == "version" for f in findings):  # which OpenAPI it is must be known to normalize it
        # Publication also refuses a wrong x-agora-personal-data declaration: say so here too.
        declared = personal_data_findings(document, specs.normalize(document))
        findings = sorted({*findings, *declared}, key=lambda f: (f.location, f.message))
    for finding in findings:
        print(f"{finding.location or '/'}: {finding.message}")
    if findings:
        print(f"error: {len(findings)} findings in {file}", file=sys.stderr)
        raise typer.Exit(SpecInvalid.exit_code)
    print(f"{file}: {specs.spec_kind(document)}, no findings")


def _check_version(value: str | None) -> str | None:
    """At the door, before the spec is read: the refusal names the flag."""
    if value is not None:
        coerce_semver(value, what="--version")
    return value


@api_app.command("publish")
def api_publish(
    file: Path = typer.Argument(..., help="The spec: JSON or YAML; Swagger 2.0, OpenAPI 3.0 or 3.1"),
    agency: str = typer.Option(..., "--agency", help="Publishing agency's slug"),
    upstream: str | None = typer.Option(None, "--upstream", help="Upstream base URL (none: sandbox only)"),
    api: str | None = typer.Option(None, "--api", help="API slug (default: from the spec's title)"),
    access: AccessLevel | None = typer.Option(
        None,
        "--access",
        help="open, key or restricted (new APIs: key; restricted when the spec declares personal data)",
    ),
    version: str | None = typer.Option(
        None, "--version", help="Override the spec's info.version", callback=_check_version
    ),
    tag: list[str] | None = typer.Option(None, "--tag", help="Catalogue tag (repeatable)"),
    accept_findings: bool = typer.Option(False, "--accept-findings", help="Publish despite findings"),
    allow_breaking: bool = typer.Option(False, "--allow-breaking", help="Allow breaking changes in a major"),
    draft: bool = typer.Option(False, "--draft", help="Store as a draft; release it later"),
) -> None:
    """Validate a spec and publish it as a new version of an API."""
    data = _read(file)
    # A spec of thousands of operations takes seconds to validate and compile: say what is going on.
    with (
        console.status(f"validating and publishing {file.name} ({len(data):,} bytes)..."),
        change(sessions()) as session,
    ):
        result = apis.publish(
            session,
            agency_slug=agency,
            spec=data,
            filename=file.name,
            upstream=upstream,
            api_slug=api,
            access_level=access,
            version=version,
            tags=tag or None,
            accept_findings=accept_findings,
            allow_breaking=allow_breaking,
            draft=draft,
            allowed_upstream_hosts=settings().allowed_upstream_hosts,
            limits=settings().spec_limits,
            actor=actor(),
        )
        row = result.version
        ref = f"{agency}/{row.api.slug}"
        console.print(
            f"{ref} {row.version} {row.status.value} ({len(row.normalized['operations'])} operations)"
        )
        for finding in result.findings:
            console.print(f"  finding {finding.location or '/'}: {finding.message}", markup=False)
        for item in result.changes:
            mark = "BREAKING" if item["breaking"] else "change"
            console.print(f"  {mark} {item['location']}: {item['message']}", markup=False)


@api_app.command("list")
def api_list(agency: str | None = typer.Option(None, "--agency", help="Only this agency's APIs")) -> None:
    """List APIs and their versions."""
    table = Table("api", "title", "access", "versions")
    with read(sessions()) as session:
        for row in apis.list_apis(session, agency_slug=agency):
            versions = ", ".join(f"{v.version} ({v.status.value})" for v in row.versions)
            table.add_row(f"{row.agency.slug}/{row.slug}", row.title, row.access_level.value, versions)
    console.print(table)


@api_app.command("show")
def api_show(
    ref: str = typer.Argument(..., help="AGENCY/API"),
    version: str | None = typer.Option(None, "--version", help="Show this version's findings and changes"),
) -> None:
    """Show an API (or one version) as JSON."""
    agency, api = _split(ref)
    with read(sessions()) as session:
        if version is None:
            print_json(api_view(apis.get_api(session, agency, api)))
        else:
            print_json(version_detail_view(apis.get_version(session, agency, api, version)))


@api_app.command("release")
def api_release(
    ref: str = typer.Argument(..., help="AGENCY/API"), version: str = typer.Argument(...)
) -> None:
    """Publish a draft version."""
    agency, api = _split(ref)
    with change(sessions()) as session:
        apis.release(session, apis.get_version(session, agency, api, version), actor=actor())
    console.print(f"{ref} {version} published")


@api_app.command("deprecate")
def api_deprecate(
    ref: str = typer.Argument(..., help="AGENCY/API"),
    version: str = typer.Argument(...),
    sunset: str | None = typer.Option(None, "--sunset", help="Retirement date, YYYY-MM-DD"),
) -> None:
    """Deprecate a version; the gateway then sends Deprecation and Sunset headers."""
    agency, api = _split(ref)
    try:
        when = date.fromisoformat(sunset) if sunset else None
    except ValueError as exc:
        raise InvalidInput(f"--sunset {sunset!r} is not a date (YYYY-MM-DD)") from exc
    with change(sessions()) as session:
        apis.deprecate(session, apis.get_version(session, agency, api, version), sunset=when, actor=actor())
    console.print(f"{ref} {version} deprecated" + (f", sunset {when}" if when else ""))


@api_app.command("retire")
def api_retire(ref: str = typer.Argument(..., help="AGENCY/API"), version: str = typer.Argument(...)) -> None:
    """Retire a version; the gateway then answers 410 Gone."""
    agency, api = _split(ref)
    with change(sessions()) as session:
        apis.retire(session, apis.get_version(session, agency, api, version), actor=actor())
    console.print(f"{ref} {version} retired")
