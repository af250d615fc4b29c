"""Accesses to a person's data in: the gateway's personal-data-log batches -> `personal_data_accesses`.

One shape, Agora's batch (what plugins/personal_data_log/ writes to the database or posts to
`POST /admin/personal-data/ingest`):

    {"records": [{request_id, at, subject, key_id, agency, api, version, operation_id, application_id,
                  application_name, organisation, categories, purpose, legal_basis, status, outcome,
                  retention_days}, ...]}

Writing is idempotent on `request_id` (a retried batch inserts nothing twice). `subject` must be a
pseudonym (64 hex digits: HMAC-SHA256, agora/pseudonyms.py), so a sender that forgot to pseudonymise
cannot put an identifier in clear into the log; `outcome` must be the one `status` gives (`outcome_of`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Insert, Table
from sqlalchemy.orm import Session

from agora.errors import InvalidInput
from plugins.personal_data_log.schema import MAX_RETENTION_DAYS
from registry.models import OUTCOMES, PersonalDataAccess
from registry.services.idempotent_insert import idempotent_insert, insert_new
from registry.services.usage import _instant

__all__ = [
    "ACCESS_COLUMNS", "CLIENT_CLOSED", "MAX_BATCH", "IngestResult", "accesses_insert",
    "ingest", "outcome_of", "record_accesses", "validate",
]  # fmt: skip

MAX_BATCH = 10_000  # records per request, as usage ingest
CLIENT_CLOSED = 499  # the client left before the response started (nginx's convention)
# The columns an access sets (the table's others are its own: the primary key).
ACCESS_COLUMNS = (
    "request_id", "at", "subject", "key_id", "agency", "api", "version", "operation_id", "application_id",
    "application_name", "organisation", "categories", "purpose", "legal_basis", "status", "outcome",
    "retention_days",
)  # fmt: skip
_REQUIRED = {"request_id": 64, "key_id": 32, "agency": 63, "api": 63, "version": 64}
_OPTIONAL = {"operation_id": 200, "application_id": 36}  # None when unknown
_TEXT = {"application_name": 200, "organisation": 200, "purpose": 4000, "legal_basis": 100}  # "" when unknown
_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")
_MAX_CATEGORIES, _MAX_CATEGORY = 50, 200


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    inserted: int  # the others were already stored: a retried batch


def outcome_of(status: int) -> str:
    """served: the upstream answered (< 400); refused: a 4xx, nothing was read; failed: 5xx, or the
    client left (499) or no answer was sent (0)."""
    if 0 < status < 400:
        return OUTCOMES[0]
    if 400 <= status < 500 and status != CLIENT_CLOSED:
        return OUTCOMES[1]
    return OUTCOMES[2]


def _string(record: dict[str, Any], key: str, limit: int, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{where}/{key}: expected a string of at most {limit} characters")
    return value


def _integer(record: dict[str, Any], key: str, low: int, high: int, where: str) -> int:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{where}/{key}: expected a whole number from {low} to {high}, not {value!r}")
    return value


def _categories(value: Any, where: str) -> list[str]:
    if (
        not isinstance(value, list)
        or len(value) > _MAX_CATEGORIES
        or not all(isinstance(c, str) and 0 < len(c) <= _MAX_CATEGORY for c in value)
    ):
        raise InvalidInput(
            f"{where}/categories: expected a list of at most {_MAX_CATEGORIES} non-empty strings "
            f"of at most {_MAX_CATEGORY} characters"
        )
    return list(value)


def validate(record: Any, where: str) -> dict[str, Any]:
    """One record of the batch -> the row to insert; `where` is its JSON Pointer."""
    if not isinstance(record, dict):
        raise InvalidInput(f"{where}: an access record is an object")
    row: dict[str, Any] = {}
    for key, limit in _REQUIRED.items():
        row[key] = _string(record, key, limit, where)
        if not row[key]:
            raise InvalidInput(f"{where}/{key}: expected a non-empty string")
    for key, limit in _OPTIONAL.items():
        row[key] = None if record.get(key) is None else _string(record, key, limit, where) or None
    for key, limit in _TEXT.items():
        row[key] = "" if record.get(key) is None else _string(record, key, limit, where)
    subject = record.get("subject")
    if not isinstance(subject, str) or not _PSEUDONYM.match(subject):
        raise InvalidInput(
            f"{where}/subject: expected a pseudonym (64 lower-case hex digits), never an identifier"
        )
    row["subject"] = subject
    row["at"] = _instant(record.get("at"), where)
    row["categories"] = _categories(record.get("categories"), where)
    row["status"] = _integer(record, "status", 100, 599, where)
    outcome = outcome_of(row["status"])
    if record.get("outcome", outcome) != outcome:
        raise InvalidInput(
            f"{where}/outcome: status {row['status']} is {outcome!r}, not {record['outcome']!r}"
        )
    row["outcome"] = outcome
    row["retention_days"] = _integer(record, "retention_days", 1, MAX_RETENTION_DAYS, where)
    return row


def accesses_insert(dialect: str) -> Insert:
    """The insert of accesses on `dialect`, idempotent on `request_id`. The gateway's personal-data-log
    compiles it once (plugins/usage_metering/backends/database.py)."""
    return idempotent_insert(cast(Table, PersonalDataAccess.__table__), dialect)


def record_accesses(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Inserts validated rows; one already stored (same `request_id`) is left alone. Returns how many
    were inserted."""
    return insert_new(session, cast(Table, PersonalDataAccess.__table__), list(rows))


def ingest(session: Session, body: Any) -> IngestResult:
    """A posted batch; raises `InvalidInput` (naming the JSON Pointer) before writing anything."""
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise InvalidInput('expected {"records": [...]}')
    records = body["records"]
    if len(records) > MAX_BATCH:
        raise InvalidInput(f"/records: at most {MAX_BATCH} records per request")
    rows = [validate(record, f"/records/{index}") for index, record in enumerate(records)]
    return IngestResult(received=len(rows), inserted=record_accesses(session, rows))
