"""Accesses to a person's data (issue 16): one row per call of an operation that declares personal data.

The data subject is never stored in clear: `subject` is a keyed hash (HMAC-SHA256 under the platform's
pseudonymisation key `key_id`, agora/pseudonyms.py). A citizen signed in through the identity federation
finds their rows by computing the same hash of their own identifier under every key still known; nobody
can go from a row back to the identifier without the key.

What the row says is copied at the time of the call (organisation, application name, purpose, legal
basis, categories): a renamed application or a later grant must not rewrite what a person was shown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, Json

__all__ = ["OUTCOMES", "PersonalDataAccess"]

# served: the upstream answered (status < 400); refused: the gateway or the agency refused (4xx):
# nothing was read; failed: no answer reached the caller (5xx, or the client left: 499).
OUTCOMES = ("served", "refused", "failed")


class PersonalDataAccess(Base):
    __tablename__ = "personal_data_accesses"
    __table_args__ = (
        Index("ix_personal_data_accesses_subject_at", "subject", "at"),
        Index("ix_personal_data_accesses_agency_at", "agency", "at"),
    )

    # SQLite only autoincrements INTEGER PRIMARY KEY, not BIGINT.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)  # idempotent ingestion
    at: Mapped[datetime]
    subject: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256 of the subject's identifier
    key_id: Mapped[str] = mapped_column(String(32))  # which pseudonymisation key made `subject`
    agency: Mapped[str] = mapped_column(String(63))
    api: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[str | None] = mapped_column(String(200))
    application_id: Mapped[str | None] = mapped_column(String(36), index=True)
    application_name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    categories: Mapped[list[str]] = mapped_column(Json, default=list)
    purpose: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))  # one of OUTCOMES
    retention_days: Mapped[int]  # from the legal basis (or the platform default), read by pruning
