"""Rows of the log of accesses to personal data, written as the gateway writes them (issue 16): the
subject pseudonymised under the ring's current key. Shared by the registry's and the portal's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from agora.pseudonyms import KeyRing
from registry.models import PersonalDataAccess

# Two test keys (32 bytes each): `k2` current, `k1` the previous one.
RING_VALUE = "k2:" + "22" * 32 + ",k1:" + "11" * 32
RING = KeyRing.parse(RING_VALUE)
ALICE = "2 84 12 75 108 042 36"
BOB = "1 79 03 13 055 117 21"


def access(
    session: Session,
    identifier: str,
    *,
    ring: KeyRing = RING,
    at: datetime | None = None,
    agency: str = "benefits",
    api: str = "entitlements",
    organisation: str = "Town hall of Example",
    application_name: str = "Housing aid desk",
    application_id: str | None = "6f1c1c1e-0000-4000-8000-000000000001",
    status: int = 200,
    **overrides: Any,
) -> PersonalDataAccess:
    key_id, subject = ring.pseudonym(identifier)
    outcome = "served" if status < 400 else ("refused" if status < 499 else "failed")
    row = PersonalDataAccess(
        request_id=overrides.pop("request_id", uuid.uuid4().hex),
        at=at or datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        subject=subject,
        key_id=key_id,
        agency=agency,
        api=api,
        version=overrides.pop("version", "1.0.0"),
        operation_id=overrides.pop("operation_id", "getEntitlements"),
        application_id=application_id,
        application_name=application_name,
        organisation=organisation,
        categories=overrides.pop("categories", ["identity", "entitlements"]),
        purpose=overrides.pop("purpose", "Checking eligibility for the housing aid"),
        legal_basis=overrides.pop("legal_basis", "public-task"),
        status=status,
        outcome=outcome,
        retention_days=overrides.pop("retention_days", 1825),
    )
    assert not overrides, f"unknown fields {sorted(overrides)}"
    session.add(row)
    session.flush()
    return row
