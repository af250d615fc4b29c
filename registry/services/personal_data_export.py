"""Accesses to personal data as CSV and JSON, for the citizen's downloads and the agency's audit.

Both formats carry the same fields, in the same order (`FIELDS`). Never the pseudonym or its key: an
export must not let rows about the same person be linked outside the registry.

The CSV is opened in spreadsheets, and some of its cells come from outside the platform's control (an
application's name and organisation, a grant's purpose, a request id a caller sent): it is written by
agora/csv_export.py, which makes a cell that starts like a formula inert (CSV injection).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agora.csv_export import csv_text
from registry.models import PersonalDataAccess, utcnow
from registry.services.personal_data_queries import Accesses, AccessFilter

__all__ = ["FIELDS", "record", "to_csv", "to_json"]

FIELDS = (
    "at",
    "organisation",
    "application",
    "application_id",
    "agency",
    "api",
    "version",
    "operation",
    "categories",
    "purpose",
    "legal_basis",
    "outcome",
    "status",
    "reference",
)


def record(row: PersonalDataAccess) -> dict[str, Any]:
    """One access, as both formats state it (`reference`: the request id, to quote in a complaint)."""
    return {
        "at": row.at.isoformat(),
        "organisation": row.organisation,
        "application": row.application_name,
        "application_id": row.application_id,
        "agency": row.agency,
        "api": row.api,
        "version": row.version,
        "operation": row.operation_id,
        "categories": list(row.categories),
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "outcome": row.outcome,
        "status": row.status,
        "reference": row.request_id,
    }


def to_csv(rows: Iterable[PersonalDataAccess]) -> str:
    return csv_text(FIELDS, (record(row) for row in rows))


def to_json(accesses: Accesses, filters: AccessFilter) -> str:
    body = {
        "generated_at": utcnow().isoformat(),
        "filters": filters.as_dict(),
        "count": len(accesses.rows),
        "truncated": accesses.truncated,
        "accesses": [record(row) for row in accesses.rows],
    }
    return json.dumps(body, ensure_ascii=False, indent=1)
