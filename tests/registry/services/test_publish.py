"""Publishing specs: refusals store nothing; findings can be accepted; versions are compared."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import (
    BreakingChange,
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    SpecInvalid,
    SpecUnparsable,
)
from examples.catalog import by_api_slug
from registry.models import AccessLevel, ApiVersion, AuditEvent, VersionStatus, utcnow
from registry.services import apis
from registry.unit_of_work import change
from tests.registry import factories


def _companies() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(by_api_slug("companies").spec_text())
    return loaded


def _publish(session: Session, doc: dict[str, Any] | str, **kwargs: Any) -> apis.PublishResult:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    kwargs.setdefault("upstream", "https://companies.example.gov")
    kwargs.setdefault("api_slug", "companies")
    return apis.publish(session, agency_slug="commerce", spec=text, actor="t", **kwargs)


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_publish_stores_spec_verbatim_normalized_and_audits(sessions: sessionmaker[Session]) -> None:
    text = by_api_slug("companies").spec_text()
    with change(sessions) as session:
        factories.agency(session, "commerce")
        result = _publish(session, text, access_level=AccessLevel.KEY, tags=["business"])
    row = result.version
    assert result.created_api and result.findings == []
    assert row.spec_text == text and row.spec_format == "yaml" and row.spec_kind == "openapi-3.0"
    assert row.version == "1.0.0" and row.major == 1 and row.status is VersionStatus.PUBLISHED
    assert {op["operation_id"] for op in row.normalized["operations"]} >= {"getCompany"}
    with sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["api.create", "version.publish"]


def test_invalid_spec_is_refused_with_every_finding_and_nothing_is_stored(
    sessions: sessionmaker[Session],
) -> None:
    doc = _companies()
    first_path = next(iter(doc["paths"]))
    doc["paths"][first_path]["get"]["responses"] = "not a mapping"
    doc["info"]["title"] = 42
    with change(sessions) as session:
        factories.agency(session, "commerce")
    with pytest.raises(SpecInvalid) as refused, change(sessions) as session:
        _publish(session, doc)
    locations = [f.location for f in refused.value.findings]
    assert len(locations) >= 2, locations
    assert "/info/title" in locations
    assert any(
        loc.startswith("/paths/" + first_path.replace("~", "~0").replace("/", "~1")) for loc in locations
    )
    with sessions() as session:
        assert _count(session, ApiVersion) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "agency.create")
            )
            == 0
        )


def test_findings_can_be_accepted_and_are_recorded(sessions: sessionmaker[Session]) -> None:
    doc = _companies()
    doc["info"]["title"] = 42
    with change(sessions) as session:
        factories.agency(session, "commerce")
        result = _publish(session, doc, accept_findings=True)
    assert [f["location"] for f in result.version.findings] == ["/info/title"]


def test_unparsable_spec_reports_line_and_column(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "commerce")
    with pytest.raises(SpecUnparsable) as refused, change(sessions) as session:
        _publish(session, '{\n  "openapi": "3.0.0",\n  "info": {,\n}')
    assert refused.value.line == 3


def test_new_version_is_diffed_and_breaking_change_needs_a_new_major(sessions: sessionmaker[Session]) -> None:
    base = _companies()
    with change(sessions) as session:
        factories.agency(session, "commerce")
        _publish(session, base)

    added = _companies()
    added["info"]["version"] = "1.1.0"
    added["paths"]["/health-check"] = {
        "get": {"operationId": "healthCheck", "responses": {"200": {"description": "ok"}}}
    }
    with change(sessions) as session:
        result = _publish(session, added)
    assert result.changes and not any(c["breaking"] for c in result.changes)
    assert "healthCheck" in json.dumps(result.changes) or "/health-check" in json.dumps(result.changes)

    removed = _companies()
    removed["info"]["version"] = "1.2.0"
    gone = next(iter(removed["paths"]))
    del removed["paths"][gone]
    with pytest.raises(BreakingChange) as refused, change(sessions) as session:
        _publish(session, removed)
    assert refused.value.changes and all(c["breaking"] for c in refused.value.changes)

    removed["info"]["version"] = "2.0.0"
    with change(sessions) as session:
        major = _publish(session, removed)
    assert major.version.major == 2 and any(c["breaking"] for c in major.changes)

    removed["info"]["version"] = "1.3.0"
    with change(sessions) as session:
        forced = _publish(session, removed, allow_breaking=True)
    assert forced.version.status is VersionStatus.PUBLISHED


def test_versions_are_immutable_and_increase(sessions: sessionmaker[Session]) -> None:
    doc = _companies()
    with change(sessions) as session:
        factories.agency(session, "commerce")
        _publish(session, doc)
        doc["info"]["version"] = "1.1.0"
        _publish(session, doc)
    # Same version again; an older one in the same major. (A patch to an older major stays allowed.)
    for version in ("1.1.0", "1.0.5"):
        doc["info"]["version"] = version
        with pytest.raises(Conflict), change(sessions) as session:
            _publish(session, doc)


@pytest.mark.parametrize(
    "upstream",
    [
        "ftp://x.example",
        "http://169.254.169.254/latest",
        "http://10.0.0.5",
        "http://[fe80::1]/",
        "http://metadata.google.internal",
    ],
)
def test_upstreams_in_private_or_metadata_ranges_are_refused(
    sessions: sessionmaker[Session], upstream: str
) -> None:
    with change(sessions) as session:
        factories.agency(session, "commerce")
    with pytest.raises(InvalidInput), change(sessions) as session:
        _publish(session, _companies(), upstream=upstream)


def test_operator_allow_list_admits_a_private_upstream(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "commerce")
        result = _publish(
            session, _companies(), upstream="http://10.0.0.5:8080/", allowed_upstream_hosts=("10.0.0.5",)
        )
    assert result.version.upstream_url == "http://10.0.0.5:8080"


def test_lifecycle_draft_publish_deprecate_retire(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "commerce")
        row = _publish(session, _companies(), draft=True).version
        assert row.status is VersionStatus.DRAFT
        with pytest.raises(InvalidTransition):
            apis.retire(session, row, actor="t")
        apis.release(session, row, actor="t")
        with pytest.raises(InvalidInput, match="past"):
            apis.deprecate(session, row, sunset=date(2000, 1, 1), actor="t")
        sunset = utcnow().date() + timedelta(days=90)
        apis.deprecate(session, row, sunset=sunset, actor="t")
        assert row.status is VersionStatus.DEPRECATED and row.sunset_date == sunset
        apis.retire(session, row, actor="t")
        assert row.status is VersionStatus.RETIRED and row.retired_at is not None
        with pytest.raises(InvalidTransition):
            apis.deprecate(session, row, sunset=None, actor="t")


def test_unknown_agency_and_api(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(NotFound), change(sessions) as session:
        _publish(session, _companies())
    with pytest.raises(NotFound), change(sessions) as session:
        apis.get_api(session, "nope", "nope")
