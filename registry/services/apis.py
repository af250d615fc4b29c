"""Publishing specs and moving versions through their lifecycle (draft, published, deprecated, retired)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import semver
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from agora.errors import (
    BreakingChange,
    Conflict,
    Finding,
    InvalidInput,
    InvalidTransition,
    NotFound,
    SpecInvalid,
    SpecRefused,
)
from agora.settings import SpecLimits
from registry import specs
from registry.models import AccessLevel, Agency, Api, ApiVersion, VersionStatus, utcnow
from registry.plugin_policy import check_plugin_configs
from registry.services import audit
from registry.services.access_levels import check_release, level_for_publication
from registry.services.agencies import check_slug, get_agency
from registry.specs.personal_data import personal_data_findings
from registry.upstreams import check_upstream
from registry.versions import coerce_semver

__all__ = [
    "PublishResult",
    "api_state",
    "deprecate",
    "get_api",
    "get_version",
    "list_apis",
    "publish",
    "release",
    "retire",
    "version_state",
]


@dataclass(slots=True)
class PublishResult:
    version: ApiVersion
    created_api: bool
    findings: list[Finding] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def api_state(api: Api) -> dict[str, Any]:
    return {
        "agency": api.agency.slug,
        "slug": api.slug,
        "title": api.title,
        "description": api.description,
        "tags": list(api.tags),
        "access_level": api.access_level.value,
    }


def version_state(version: ApiVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "status": version.status.value,
        "upstream_url": version.upstream_url,
        "sunset_date": version.sunset_date.isoformat() if version.sunset_date else None,
        "findings": len(version.findings),
    }


def _slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:63].rstrip("-") or "api"


def _semver(version: ApiVersion) -> semver.Version:
    return semver.Version.parse(version.version)


def _previous(api: Api, new: semver.Version) -> ApiVersion | None:
    """The version a new one is compared with: the newest live one of its major, else of the last major."""
    live = [v for v in api.versions if v.status in (VersionStatus.PUBLISHED, VersionStatus.DEPRECATED)]
    same_major = [v for v in live if v.major == new.major]
    pool = same_major or [v for v in live if v.major < new.major]
    return max(pool, key=_semver, default=None)


def publish(
    session: Session,
    *,
    agency_slug: str,
    spec: bytes | str,
    filename: str | None = None,
    upstream: str | None,
    api_slug: str | None = None,
    access_level: AccessLevel | None = None,
    version: str | None = None,
    tags: list[str] | None = None,
    accept_findings: bool = False,
    allow_breaking: bool = False,
    draft: bool = False,
    allowed_upstream_hosts: tuple[str, ...] = (),
    limits: SpecLimits | None = None,
    actor: str,
) -> PublishResult:
    """Validate, normalise, compare and store one version. Raises before writing anything when refused."""
    agency = get_agency(session, agency_slug)
    document = specs.load_spec(spec, filename, limits=limits)
    kind = specs.spec_kind(document)
    findings = specs.validate_spec(document)
    if findings and not accept_findings:
        raise SpecInvalid(findings)
    check_plugin_configs(document, allowed_hosts=allowed_upstream_hosts)
    normalized = specs.normalize(document)
    # A wrong personal-data declaration would leave calls reading a person's data unrecorded (the
    # gateway looks for the person where the spec says): like plugin policy, no flag lets it through.
    declaration_defects = personal_data_findings(document, normalized)
    if declaration_defects:
        raise SpecRefused(declaration_defects)
    if upstream is not None:
        upstream = check_upstream(upstream, allowed_hosts=allowed_upstream_hosts)

    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    assert isinstance(info, dict)
    if version is not None:
        parsed = coerce_semver(version)
    else:
        parsed = coerce_semver(str(info.get("version", "")), what="info.version")
    slug = check_slug(api_slug or _slugify(str(info.get("title") or "api")), "API")

    api = session.scalar(
        select(Api).where(Api.agency_id == agency.id, Api.slug == slug).options(_versions_without_documents())
    )
    created = api is None
    level = level_for_publication(api, access_level, normalized, ref=f"{agency.slug}/{slug}")
    if api is None:
        api = Api(
            agency=agency,
            slug=slug,
            title=str(info.get("title") or slug),
            description=str(info.get("description") or ""),
            tags=sorted(set(tags or [])),
            access_level=level,
        )
        session.add(api)
        session.flush()
        before_api = None
    else:
        before_api = api_state(api)
        if any(v.version == str(parsed) for v in api.versions):
            raise Conflict(f"{agency.slug}/{slug} version {parsed} already exists; versions are immutable")
        same_major = [_semver(v) for v in api.versions if v.major == parsed.major]
        if same_major and parsed <= max(same_major):
            raise Conflict(f"version {parsed} is not newer than {max(same_major)} in major {parsed.major}")
        api.title = str(info.get("title") or api.title)
        api.description = str(info.get("description") or api.description)
        api.access_level = level
        if tags is not None:
            api.tags = sorted(set(tags))

    previous = _previous(api, parsed)
    changes: list[dict[str, Any]] = []
    if previous is not None:
        diff = specs.diff_specs(previous.normalized, normalized)
        changes = [change.as_dict() for change in diff]
        breaking = [c for c in diff if c.breaking]
        if breaking and previous.major == parsed.major and not allow_breaking:
            raise BreakingChange(
                f"{len(breaking)} breaking change(s) from {previous.version} to {parsed} within major "
                f"{parsed.major}; publish as {parsed.major + 1}.0.0 or pass --allow-breaking. "
                f"First: {breaking[0].location}: {breaking[0].message}",
                [c.as_dict() for c in breaking],
            )
        changelog = specs.summarize(diff)
    else:
        changelog = "First version."

    text = spec.decode("utf-8") if isinstance(spec, bytes) else spec
    row = ApiVersion(
        api=api,
        version=str(parsed),
        major=parsed.major,
        spec_text=text,
        spec_format="json" if text.lstrip().startswith(("{", "[")) else "yaml",
        spec_kind=kind,
        normalized=normalized,
        findings=[f.as_dict() for f in findings],
        upstream_url=upstream,
        status=VersionStatus.DRAFT if draft else VersionStatus.PUBLISHED,
        changes=changes,
        changelog=changelog,
        published_at=None if draft else utcnow(),
    )
    session.add(row)
    session.flush()
    if created or before_api != api_state(api):
        audit.record(
            session,
            actor=actor,
            action="api.create" if created else "api.update",
            target_type="api",
            target=f"{agency.slug}/{slug}",
            agency_id=agency.id,
            before=before_api,
            after=api_state(api),
        )
    audit.record(
        session,
        actor=actor,
        action="version.draft" if draft else "version.publish",
        target_type="api_version",
        target=f"{agency.slug}/{slug}@{row.version}",
        agency_id=agency.id,
        after=version_state(row),
        detail={"findings": len(findings), "changes": len(changes), "accept_findings": accept_findings},
    )
    return PublishResult(version=row, created_api=created, findings=findings, changes=changes)


def _versions_without_documents() -> Any:
    """Load an API's versions without their documents (the spec, its normalized form, the changes): a
    spec of thousands of operations is megabytes of JSON per version, parsed for every listing and
    every publication otherwise. Read where needed, they load then (inside the session)."""
    return (
        selectinload(Api.versions)
        .defer(ApiVersion.spec_text)
        .defer(ApiVersion.normalized)
        .defer(ApiVersion.changes)
    )


def list_apis(
    session: Session, *, agency_slug: str | None = None, agency_ids: set[int] | None = None
) -> list[Api]:
    query = select(Api).join(Agency).order_by(Agency.slug, Api.slug).options(_versions_without_documents())
    if agency_slug is not None:
        query = query.where(Agency.slug == agency_slug)
    if agency_ids is not None:
        query = query.where(Api.agency_id.in_(agency_ids))
    return list(session.scalars(query).unique())


def get_api(session: Session, agency_slug: str, api_slug: str) -> Api:
    agency = get_agency(session, agency_slug)
    api = session.scalar(select(Api).where(Api.agency_id == agency.id, Api.slug == api_slug))
    if api is None:
        raise NotFound(f"API {agency_slug}/{api_slug} does not exist")
    return api


def get_version(session: Session, agency_slug: str, api_slug: str, version: str) -> ApiVersion:
    api = get_api(session, agency_slug, api_slug)
    for row in api.versions:
        if row.version == version:
            return row
    raise NotFound(f"API {agency_slug}/{api_slug} has no version {version!r}")


_ALLOWED: dict[VersionStatus, frozenset[VersionStatus]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.PUBLISHED}),
    VersionStatus.PUBLISHED: frozenset({VersionStatus.DEPRECATED, VersionStatus.RETIRED}),
    VersionStatus.DEPRECATED: frozenset({VersionStatus.RETIRED}),
    VersionStatus.RETIRED: frozenset(),
}


_ACTIONS = {
    VersionStatus.PUBLISHED: "version.release",
    VersionStatus.DEPRECATED: "version.deprecate",
    VersionStatus.RETIRED: "version.retire",
}


def _move(session: Session, row: ApiVersion, to: VersionStatus, actor: str, **detail: Any) -> ApiVersion:
    if to not in _ALLOWED[row.status]:
        raise InvalidTransition(f"version {row.version} is {row.status.value}; it cannot become {to.value}")
    before = version_state(row)
    row.status = to
    now = utcnow()
    if to is VersionStatus.PUBLISHED:
        row.published_at = now
    elif to is VersionStatus.DEPRECATED:
        row.deprecated_at = now
    elif to is VersionStatus.RETIRED:
        row.retired_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=_ACTIONS[to],
        target_type="api_version",
        target=f"{row.api.agency.slug}/{row.api.slug}@{row.version}",
        agency_id=row.api.agency_id,
        before=before,
        after=version_state(row),
        detail={k: str(v) for k, v in detail.items()},
    )
    return row


def release(session: Session, row: ApiVersion, *, actor: str) -> ApiVersion:
    if row.status is VersionStatus.DRAFT:
        check_release(row)
    return _move(session, row, VersionStatus.PUBLISHED, actor)


def deprecate(session: Session, row: ApiVersion, *, sunset: date | None, actor: str) -> ApiVersion:
    if sunset is not None and sunset < utcnow().date():
        raise InvalidInput(f"sunset date {sunset.isoformat()} is in the past")
    row.sunset_date = sunset
    return _move(session, row, VersionStatus.DEPRECATED, actor, sunset=sunset)


def retire(session: Session, row: ApiVersion, *, actor: str) -> ApiVersion:
    return _move(session, row, VersionStatus.RETIRED, actor)
