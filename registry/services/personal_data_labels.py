"""What the pages show for the identifiers an access row records: the agency's name, the API's title, the
operation's summary and the legal basis's title, read from the published version the call went to.

The rows keep slugs and ids (they must not change when an agency renames something); a person reading
their page deserves names. A version since deleted falls back to the recorded slugs and ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import Agency, Api, ApiVersion, PersonalDataAccess
from registry.specs.personal_data import personal_data

__all__ = ["VersionLabels", "basis_label", "labels"]


@dataclass(frozen=True, slots=True)
class VersionLabels:
    agency: str
    api: str
    operations: dict[str, str] = field(default_factory=dict)  # operation id -> summary
    legal_bases: dict[str, str] = field(default_factory=dict)  # legal basis id -> title

    def operation(self, operation_id: str | None) -> str:
        if not operation_id:
            return ""
        return self.operations.get(operation_id) or operation_id

    def legal_basis(self, basis_id: str) -> str:
        return basis_label(basis_id, self.legal_bases.get(basis_id))


def basis_label(basis_id: str, title: str | None) -> str:
    """How pages name a legal basis: "Public task (public-task)"; the id alone when no title is known
    (a basis no served or recorded version declares any more)."""
    return f"{title} ({basis_id})" if title and basis_id else basis_id


def labels(session: Session, rows: Iterable[PersonalDataAccess]) -> dict[tuple[str, str, str], VersionLabels]:
    """(agency, api, version) -> its labels, for every version the rows name."""
    wanted = {(row.agency, row.api, row.version) for row in rows}
    found: dict[tuple[str, str, str], VersionLabels] = {}
    for agency, api, version in sorted(wanted):
        hit = session.execute(
            select(Agency.name, Api.title, ApiVersion.normalized)
            .join(Api, Api.agency_id == Agency.id)
            .join(ApiVersion, ApiVersion.api_id == Api.id)
            .where(Agency.slug == agency, Api.slug == api, ApiVersion.version == version)
        ).first()
        if hit is None:
            found[(agency, api, version)] = VersionLabels(agency, api)
            continue
        agency_name, api_title, normalized = hit
        operations = {
            str(op.get("operation_id")): str(op.get("summary") or "")
            for op in normalized.get("operations", [])
            if op.get("operation_id")
        }
        declared = personal_data(normalized)
        bases = {b.id: b.title for b in declared.legal_bases} if declared else {}
        found[(agency, api, version)] = VersionLabels(agency_name, api_title, operations, bases)
    return found
