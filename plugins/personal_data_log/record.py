"""The per-call access record, one small tuple until it is written (as usage metering's, record.py there).

The identifier is kept as the request gave it while pending, in the process's memory only, and turned
into its pseudonym by `to_row` in the recorder's flusher thread: the HMAC is the costliest step, and the
request path stays an append. No row ever holds the identifier: the stores receive `to_row`'s output.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from agora.pseudonyms import KeyRing
from registry.services.personal_data import CLIENT_CLOSED, outcome_of

__all__ = ["Access", "Party", "Service", "to_row"]

# (agency, API, version, the grants' name of the API: "agency/api"), once per snapshot service
Service = tuple[str, str, str, str]
# (application id, application name, organisation, purpose, legal basis, retention days), once per
# caller of a route: what the caller's grant for this API says
Party = tuple[str | None, str, str, str, str, int]


class Access(NamedTuple):
    seq: int  # per-recorder counter; with the recorder's random prefix, the row's unique id
    started_at: float  # Unix seconds
    ring: KeyRing  # the plugin's, cached when the snapshot was loaded: its current key pseudonymises
    identifier: str  # in clear while pending only
    service: Service
    operation_id: str | None
    party: Party
    categories: tuple[str, ...]
    status: int  # 0: no answer was sent (the client left)


def to_row(access: Access, id_prefix: str) -> dict[str, Any]:
    """A record in the batch format of registry/services/personal_data.py; `at` in Unix seconds. Values
    are cut to their columns' sizes: a value too long would fail the whole batch on every retry."""
    key_id, subject = access.ring.pseudonym(access.identifier)
    agency, api, version, _ = access.service
    application_id, application_name, organisation, purpose, legal_basis, retention_days = access.party
    status = access.status or CLIENT_CLOSED
    operation_id = access.operation_id
    return {
        # The client's X-Request-ID may repeat: with it as the key, a client could keep its calls out of
        # the log by sending one id twice. This id is the gateway's own.
        "request_id": f"{id_prefix}-{access.seq:x}",
        "at": access.started_at,
        "subject": subject,
        "key_id": key_id,
        "agency": agency,
        "api": api,
        "version": version,
        "operation_id": operation_id[:200] if operation_id else None,
        "application_id": application_id,
        "application_name": application_name,
        "organisation": organisation,
        "categories": list(access.categories),
        "purpose": purpose,
        "legal_basis": legal_basis,
        "status": status,
        "outcome": outcome_of(status),
        "retention_days": retention_days,
    }
