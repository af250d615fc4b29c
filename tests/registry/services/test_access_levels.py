"""An API returning personal data is restricted: refused both ways at publication, and at a draft's release;
a wrong declaration is refused whatever the flags. A refusal stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput, SpecRefused
from registry.models import AccessLevel, Api, ApiVersion, AuditEvent, VersionStatus
from registry.services import apis
from registry.services.access_levels import RULE
from registry.unit_of_work import change
from tests.registry import factories
from tests.registry.factories import personal_data_spec

REF = "benefits/entitlements"


def _publish(session: Session, spec: str, **kwargs: Any) -> apis.PublishResult:
    return apis.publish(
        session,
        agency_slug="benefits",
        spec=spec,
        upstream=None,
        api_slug="entitlements",
        actor="t",
        **kwargs,
    )


def _counts(sessions: sessionmaker[Session]) -> list[int]:
    """APIs, versions, audit events: a refusal adds none."""
    with sessions() as session:
        return [
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Api, ApiVersion, AuditEvent)
        ]


def _level(sessions: sessionmaker[Session]) -> AccessLevel:
    with sessions() as session:
        api = session.scalar(select(Api).where(Api.slug == "entitlements"))
        assert api is not None
        return api.access_level


@pytest.fixture
def agency(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "benefits")


@pytest.mark.usefixtures("agency")
def test_a_new_api_with_personal_data_is_restricted_by_default(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        result = _publish(session, personal_data_spec())
        assert result.version.api.access_level is AccessLevel.RESTRICTED
    with change(sessions) as session:
        apis.publish(
            session,
            agency_slug="benefits",
            spec=personal_data_spec(declare=False),
            upstream=None,
            api_slug="plain",
            actor="t",
        )
        assert apis.get_api(session, "benefits", "plain").access_level is AccessLevel.KEY


@pytest.mark.usefixtures("agency")
@pytest.mark.parametrize("level", [AccessLevel.OPEN, AccessLevel.KEY])
def test_personal_data_on_a_new_open_or_key_api_is_refused(
    sessions: sessionmaker[Session], level: AccessLevel
) -> None:
    before = _counts(sessions)
    with pytest.raises(InvalidInput) as refused, change(sessions) as session:
        _publish(session, personal_data_spec(), access_level=level)
    assert refused.value.detail == (
        f"{REF}: {RULE}, not {level.value!r}: this spec declares personal data (operation 'getPerson'); "
        "publish it with access level 'restricted'"
    )
    assert _counts(sessions) == before


@pytest.mark.usefixtures("agency")
def test_personal_data_on_an_existing_key_api_is_refused_unless_it_becomes_restricted(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        _publish(session, personal_data_spec("1.0.0", declare=False))
    assert _level(sessions) is AccessLevel.KEY
    before = _counts(sessions)
    for draft in (False, True):  # a draft is refused too: it would be released onto the key API
        with pytest.raises(InvalidInput, match="this spec declares personal data"), change(sessions) as s:
            _publish(s, personal_data_spec("1.1.0"), draft=draft)
    assert _counts(sessions) == before and _level(sessions) is AccessLevel.KEY
    with change(sessions) as session:
        _publish(session, personal_data_spec("1.1.0"), access_level=AccessLevel.RESTRICTED)
    assert _level(sessions) is AccessLevel.RESTRICTED


@pytest.mark.usefixtures("agency")
@pytest.mark.parametrize("level", [AccessLevel.OPEN, AccessLevel.KEY])
def test_an_api_with_live_personal_data_cannot_be_opened(
    sessions: sessionmaker[Session], level: AccessLevel
) -> None:
    with change(sessions) as session:
        _publish(session, personal_data_spec("1.0.0"))
    before = _counts(sessions)
    # A new major without personal data, asking for an open level, while 1.0.0 still serves it.
    with pytest.raises(InvalidInput) as refused, change(sessions) as session:
        _publish(session, personal_data_spec("2.0.0", declare=False), access_level=level)
    assert refused.value.detail == (
        f"{REF}: {RULE}, not {level.value!r}: version 1.0.0 (published) declares personal data "
        "(operation 'getPerson'); retire it before opening the API"
    )
    assert _counts(sessions) == before and _level(sessions) is AccessLevel.RESTRICTED
    # Deprecated still serves it; retired does not.
    with change(sessions) as session:
        row = apis.get_version(session, "benefits", "entitlements", "1.0.0")
        apis.deprecate(session, row, sunset=None, actor="t")
    with pytest.raises(InvalidInput, match=r"version 1\.0\.0 \(deprecated\)"), change(sessions) as session:
        _publish(session, personal_data_spec("2.0.0", declare=False), access_level=level)
    with change(sessions) as session:
        apis.retire(session, apis.get_version(session, "benefits", "entitlements", "1.0.0"), actor="t")
    with change(sessions) as session:
        _publish(session, personal_data_spec("2.0.0", declare=False), access_level=level)
    assert _level(sessions) is level


@pytest.mark.usefixtures("agency")
def test_a_draft_with_personal_data_is_released_only_on_a_restricted_api(
    sessions: sessionmaker[Session],
) -> None:
    with change(sessions) as session:
        _publish(session, personal_data_spec("1.0.0", declare=False), access_level=AccessLevel.RESTRICTED)
        _publish(session, personal_data_spec("1.1.0"), draft=True)
    # A draft does not hold the level back (drafts cannot be retired)...
    with change(sessions) as session:
        _publish(session, personal_data_spec("2.0.0", declare=False), access_level=AccessLevel.KEY)
    # ...but it is not released onto an API that is no longer restricted.
    with pytest.raises(InvalidInput) as refused, change(sessions) as session:
        apis.release(session, apis.get_version(session, "benefits", "entitlements", "1.1.0"), actor="t")
    assert refused.value.detail == (
        f"{REF}: {RULE}, not 'key': version 1.1.0 declares personal data (operation 'getPerson')"
    )
    with sessions() as session:
        row = apis.get_version(session, "benefits", "entitlements", "1.1.0")
        assert row.status is VersionStatus.DRAFT
    # Restricted again, it may be released.
    with change(sessions) as session:
        _publish(session, personal_data_spec("2.1.0", declare=False), access_level=AccessLevel.RESTRICTED)
        apis.release(session, apis.get_version(session, "benefits", "entitlements", "1.1.0"), actor="t")


@pytest.mark.usefixtures("agency")
def test_a_wrong_declaration_is_refused_even_with_accept_findings(sessions: sessionmaker[Session]) -> None:
    before = _counts(sessions)
    with pytest.raises(SpecRefused) as refused, change(sessions) as session:
        _publish(session, personal_data_spec(subject="person"), accept_findings=True)
    assert [f.as_dict() for f in refused.value.findings] == [
        {
            "location": "/paths/~1people~1{nir}/get/x-agora-personal-data/subject/name",
            "message": "GET /people/{nir} has no path parameter 'person'",
            "rule": "personal-data",
        }
    ]
    assert _counts(sessions) == before
