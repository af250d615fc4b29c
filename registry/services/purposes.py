"""The purpose rule of an access request (issue 16), in the manner of France's DataPass.

An API whose served versions declare personal data (`x-agora-personal-data`) is asked for with a
purpose (why the application reads the data: the agency judges it, and every person whose data is read
is shown it) and a legal basis chosen among the ids the API declares. For any other API both are
optional and a legal basis is refused: there is nothing for it to justify, and a stray one would be
shown to nobody.

`purpose_rule(api)` reads what the API declares once; its `problems` gives every defect at once, by
field, for forms, and `checked` raises them as one InvalidInput for the services, the admin API and the
CLI. The `Purpose` it returns is passed down (`grants.request_access(checked=...)`), so a request that
goes through several services is checked once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer, object_session

from agora.errors import InvalidInput
from registry.models import Api, ApiVersion
from registry.specs.personal_data import LegalBasis, personal_data
from registry.versions import served_versions

__all__ = [
    "LEGAL_BASIS",
    "MAX_PURPOSE",
    "PURPOSE",
    "Purpose",
    "PurposeRule",
    "checked_purpose",
    "declared_legal_bases",
    "purpose_rule",
    "stated_purpose",
]

MAX_PURPOSE = 2000
PURPOSE = "purpose"  # the field names, shared by the form and the problems' keys
LEGAL_BASIS = "legal_basis"


@dataclass(frozen=True, slots=True)
class Purpose:
    """What a grant keeps: both None for an API without personal data unless a purpose was given."""

    purpose: str | None
    legal_basis: str | None


def _served(api: Api) -> list[ApiVersion]:
    """The versions the gateway serves (registry/versions.py), newest first. A grant covers every major
    of the API."""
    session = object_session(api)
    # Without their documents: only the served versions' `normalized` is read (it loads when read),
    # and every version of a large spec would be megabytes.
    rows = (
        api.versions
        if session is None
        else session.scalars(
            select(ApiVersion)
            .where(ApiVersion.api_id == api.id)
            .order_by(ApiVersion.id)  # as Api.versions is, so equal versions resolve as the snapshot does
            .options(defer(ApiVersion.spec_text), defer(ApiVersion.normalized), defer(ApiVersion.changes))
        ).all()
    )
    return served_versions(rows)


def declared_legal_bases(api: Api) -> tuple[LegalBasis, ...] | None:
    """The legal bases a request may name, or None when no served version declares personal data.
    Across majors, every declared basis counts; the newest version's title wins for a shared id."""
    bases: dict[str, LegalBasis] = {}
    declares = False
    for row in _served(api):
        declared = personal_data(row.normalized)
        if declared is None:
            continue
        declares = True
        for basis in declared.legal_bases:
            bases.setdefault(basis.id, basis)
    return tuple(bases.values()) if declares else None


def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


@dataclass(frozen=True, slots=True)
class PurposeRule:
    """What one API asks of an access request, its versions read once (`purpose_rule`): a request is
    judged with it, and the judgement passed on (`Purpose`), never made again down the call chain."""

    api: Api
    bases: tuple[LegalBasis, ...] | None  # None: the API returns no personal data

    @property
    def asks_purpose(self) -> bool:
        return self.bases is not None

    def problems(self, *, purpose: str | None, legal_basis: str | None) -> dict[str, str]:
        """Every defect of a purpose and legal basis, by field (PURPOSE, LEGAL_BASIS); {} if none."""
        api, bases = self.api, self.bases
        problems: dict[str, str] = {}
        purpose, legal_basis = _clean(purpose), _clean(legal_basis)
        if purpose is not None and len(purpose) > MAX_PURPOSE:
            problems[PURPOSE] = f"the purpose has {MAX_PURPOSE} characters at most ({len(purpose)} given)"
        if bases is None:
            if legal_basis is not None:
                problems[LEGAL_BASIS] = (
                    f"{api.title} returns no personal data: a legal basis is only chosen for an API that does"
                )
            return problems
        if purpose is None:
            problems[PURPOSE] = (
                f"{api.title} returns personal data: say for what purpose your application reads it"
            )
        ids = ", ".join(basis.id for basis in bases)
        if not bases:
            # Publication refuses such a spec (personal_data_findings); a version stored before that rule
            # still must not let a request through with a basis nobody declared.
            problems[LEGAL_BASIS] = (
                f"{api.title} declares personal data but no legal basis: {api.agency.name} must declare one"
            )
        elif legal_basis is None:
            problems[LEGAL_BASIS] = f"choose the legal basis of the access to {api.title}: one of {ids}"
        elif legal_basis not in {basis.id for basis in bases}:
            shown = legal_basis if len(legal_basis) <= 100 else legal_basis[:100] + "..."  # an id is short
            problems[LEGAL_BASIS] = f"{api.title} declares no legal basis {shown!r}: choose one of {ids}"
        return problems

    def checked(self, *, purpose: str | None, legal_basis: str | None) -> Purpose:
        """The purpose and legal basis to keep on the grant, trimmed; InvalidInput naming every defect."""
        problems = self.problems(purpose=purpose, legal_basis=legal_basis)
        if problems:
            raise InvalidInput("; ".join(problems.values()))
        return Purpose(_clean(purpose), _clean(legal_basis))


def purpose_rule(api: Api) -> PurposeRule:
    """The rule for `api`: its served versions read and their declarations parsed, once."""
    return PurposeRule(api, declared_legal_bases(api))


def checked_purpose(api: Api, *, purpose: str | None, legal_basis: str | None) -> Purpose:
    """The purpose and legal basis to keep on the grant, trimmed; InvalidInput naming every defect."""
    return purpose_rule(api).checked(purpose=purpose, legal_basis=legal_basis)


def stated_purpose(
    api: Api, *, purpose: str | None, legal_basis: str | None, checked: Purpose | None
) -> Purpose:
    """What a service keeps: `checked` when its caller already judged the request for `api` (so a request
    is checked once however many services it goes through), else `purpose` and `legal_basis` checked now."""
    if checked is None:
        return checked_purpose(api, purpose=purpose, legal_basis=legal_basis)
    if purpose is not None or legal_basis is not None:
        raise TypeError("give either a checked Purpose or purpose and legal_basis, not both")
    return checked
