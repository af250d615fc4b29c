"""Reading the log of accesses to personal data (issue 16): a citizen's own accesses, and an agency's.

A citizen's rows are found by the pseudonyms of their identifier under every key of the ring (so a key
rotation loses nobody's history), and only by those: the portal passes the pseudonyms of the identity
the identity provider signed in, never a value from the request. An empty list of pseudonyms finds
nothing (it must never mean "no filter").

An agency's rows are those of its own APIs (`agency` is the slug recorded by the gateway); an agency
admin answering a complaint narrows them to one person by the pseudonyms of that person's identifier.

Newest first. Every listing is capped (`limit`) and says whether rows were left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from agora.errors import InvalidInput
from agora.pseudonyms import KeyRing, normalise_identifier
from registry.models import PersonalDataAccess

__all__ = [
    "MAX_IDENTIFIER",
    "MAX_ROWS",
    "AccessFilter",
    "Accesses",
    "Period",
    "agency_accesses",
    "agency_applications",
    "citizen_accesses",
    "organisations",
    "parse_filter",
    "parse_period",
    "subject_pseudonyms",
]

MAX_ROWS = 10_000
MAX_IDENTIFIER = 128  # a national number, or a federation's `sub` (FranceConnect's: 66 characters)
Pseudonyms = Sequence[tuple[str, str]]  # (key id, hex HMAC) pairs


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class AccessFilter:
    period: Period = field(default_factory=Period)
    organisation: str | None = None
    application: str | None = None  # an application id
    api: str | None = None  # an API slug (agency listings)

    def as_dict(self) -> dict[str, str | None]:
        """The filter as the exports state it (ISO 8601 instants, UTC)."""
        return {
            "from": self.period.start.isoformat() if self.period.start else None,
            "to": self.period.end.isoformat() if self.period.end else None,
            "organisation": self.organisation,
            "application": self.application,
            "api": self.api,
        }


@dataclass(frozen=True, slots=True)
class Accesses:
    rows: list[PersonalDataAccess]
    truncated: bool  # more rows matched than the limit


def _instant(raw: str, name: str, *, end: bool) -> datetime:
    """A date (a whole UTC day: `to` includes it) or an ISO 8601 date-time (UTC when no offset)."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time, not {raw[:40]!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_period(start: str | None, end: str | None) -> Period:
    period = Period(
        _instant(start.strip(), "from", end=False) if start and start.strip() else None,
        _instant(end.strip(), "to", end=True) if end and end.strip() else None,
    )
    if period.start and period.end and period.start >= period.end:
        raise InvalidInput("from must be before to")
    return period


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = (params.get(name) or "").strip()
    if len(value) > 200:
        raise InvalidInput(f"{name} is longer than 200 characters")
    return value or None


def parse_filter(params: Mapping[str, str], *, names: Sequence[str] = ("organisation",)) -> AccessFilter:
    """`from`, `to` and the text filters in `names` (organisation, application, api) from a query."""
    period = parse_period(params.get("from"), params.get("to"))
    values = {name: _text(params, name) for name in ("organisation", "application", "api") if name in names}
    return AccessFilter(period=period, **values)


def subject_pseudonyms(identifier: str, ring: KeyRing) -> list[tuple[str, str]]:
    """The pseudonyms of a person's identifier under every key: what finds all of their rows."""
    if len(identifier) > MAX_IDENTIFIER or not normalise_identifier(identifier):
        raise InvalidInput(f"the identifier must be 1 to {MAX_IDENTIFIER} characters, not empty")
    return ring.all_pseudonyms(identifier)


def _of_subject(pseudonyms: Pseudonyms) -> ColumnElement[bool]:
    if not pseudonyms:
        return false()
    return or_(
        *(and_(PersonalDataAccess.key_id == k, PersonalDataAccess.subject == s) for k, s in pseudonyms)
    )


def _in_period(period: Period | None) -> list[ColumnElement[bool]]:
    if period is None:
        return []
    conditions = []
    if period.start is not None:
        conditions.append(PersonalDataAccess.at >= period.start)
    if period.end is not None:
        conditions.append(PersonalDataAccess.at < period.end)
    return conditions


def _filtered(query: Select[PersonalDataAccess], filters: AccessFilter) -> Select[PersonalDataAccess]:
    query = query.where(*_in_period(filters.period))
    if filters.organisation is not None:
        query = query.where(PersonalDataAccess.organisation == filters.organisation)
    if filters.application is not None:
        query = query.where(PersonalDataAccess.application_id == filters.application)
    if filters.api is not None:
        query = query.where(PersonalDataAccess.api == filters.api)
    return query


def _page(session: Session, query: Select[PersonalDataAccess], limit: int) -> Accesses:
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_ROWS}, not {limit}")
    ordered = query.order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc()).limit(limit + 1)
    rows = list(session.scalars(ordered))
    return Accesses(rows[:limit], len(rows) > limit)


def citizen_accesses(
    session: Session, pseudonyms: Pseudonyms, filters: AccessFilter | None = None, *, limit: int = MAX_ROWS
) -> Accesses:
    """The accesses to one person's data: by the pseudonyms of their identifier, nothing else."""
    query = select(PersonalDataAccess).where(_of_subject(pseudonyms))
    return _page(session, _filtered(query, filters or AccessFilter()), limit)


def agency_accesses(
    session: Session,
    agency: str,
    filters: AccessFilter | None = None,
    *,
    subject: Pseudonyms | None = None,
    limit: int = MAX_ROWS,
) -> Accesses:
    """The accesses through the agency's APIs; `subject`: only those to one person's data."""
    query = select(PersonalDataAccess).where(PersonalDataAccess.agency == agency)
    if subject is not None:
        query = query.where(_of_subject(subject))
    return _page(session, _filtered(query, filters or AccessFilter()), limit)


def organisations(
    session: Session,
    *,
    pseudonyms: Pseudonyms | None = None,
    agency: str | None = None,
    period: Period | None = None,
) -> list[str]:
    """The organisations in a citizen's rows (`pseudonyms`) or an agency's: the filter's choices.
    `period`: only rows in it (an agency's rows are many: its choices are read over a window)."""
    query = select(PersonalDataAccess.organisation).distinct()
    if pseudonyms is not None:
        query = query.where(_of_subject(pseudonyms))
    if agency is not None:
        query = query.where(PersonalDataAccess.agency == agency)
    if pseudonyms is None and agency is None:
        raise ValueError("organisations of whom: give pseudonyms or an agency")
    return sorted(name for name in session.scalars(query.where(*_in_period(period))) if name)


def agency_applications(
    session: Session, agency: str, *, period: Period | None = None
) -> list[tuple[str, str]]:
    """(application id, its latest recorded name) of the applications that read data through the agency
    (in `period`, if given)."""
    query = (
        select(
            PersonalDataAccess.application_id,
            PersonalDataAccess.application_name,
            func.max(PersonalDataAccess.at),
        )
        .where(PersonalDataAccess.agency == agency, PersonalDataAccess.application_id.is_not(None))
        .group_by(PersonalDataAccess.application_id, PersonalDataAccess.application_name)
    )
    query = query.where(*_in_period(period))
    latest: dict[str, tuple[datetime, str]] = {}
    for app_id, name, last in session.execute(query):
        if str(app_id) not in latest or last > latest[str(app_id)][0]:
            latest[str(app_id)] = (last, name)
    return sorted(((k, v[1]) for k, v in latest.items()), key=lambda item: (item[1].lower(), item[0]))
