"""An agency answering a person's complaint: the accesses to that person's data through the agency's
APIs, found by the pseudonyms of the identifier the person gave, and the lookup itself written to the
audit trail (who looked up whom, by pseudonym, never the identifier, and how many rows came back), so
that looking people up is never silent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from agora.pseudonyms import KeyRing
from registry.models import Agency
from registry.services import audit
from registry.services.personal_data_queries import (
    MAX_ROWS,
    Accesses,
    AccessFilter,
    agency_accesses,
    subject_pseudonyms,
)

__all__ = ["LOOKUP_ACTION", "accesses_of_person"]

LOOKUP_ACTION = "personal-data.lookup"


def accesses_of_person(
    session: Session,
    agency: Agency,
    identifier: str,
    *,
    ring: KeyRing,
    actor: str,
    filters: AccessFilter | None = None,
    limit: int = MAX_ROWS,
) -> Accesses:
    """Call in a writing transaction: the audit event commits with it."""
    pseudonyms = subject_pseudonyms(identifier, ring)  # normalised by the pseudonyms (surrounding space too)
    found = agency_accesses(session, agency.slug, filters, subject=pseudonyms, limit=limit)
    key_id, pseudonym = pseudonyms[0]
    audit.record(
        session,
        actor=actor,
        action=LOOKUP_ACTION,
        target_type="agency",
        target=agency.slug,
        agency_id=agency.id,
        detail={"key_id": key_id, "subject": pseudonym, "rows": len(found.rows)},
    )
    return found
