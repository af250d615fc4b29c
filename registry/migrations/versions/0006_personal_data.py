"""personal data (issue 16): accesses to a person's data, a grant's purpose and legal basis, an
application's organisation

Revision ID: 0006_personal_data
Revises: 0005_plan_approval
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from registry.models.base import UTCDateTime

revision: str = "0006_personal_data"
down_revision: str | None = "0005_plan_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_data_accesses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(63), nullable=False),
        sa.Column("api", sa.String(63), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("operation_id", sa.String(200)),
        sa.Column("application_id", sa.String(36)),
        sa.Column("application_name", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("categories", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.String(100), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_accesses")),
        sa.UniqueConstraint("request_id", name=op.f("uq_personal_data_accesses_request_id")),
    )
    op.create_index("ix_personal_data_accesses_subject_at", "personal_data_accesses", ["subject", "at"])
    op.create_index("ix_personal_data_accesses_agency_at", "personal_data_accesses", ["agency", "at"])
    op.create_index(
        op.f("ix_personal_data_accesses_application_id"), "personal_data_accesses", ["application_id"]
    )
    with op.batch_alter_table("access_grants") as batch:
        batch.add_column(sa.Column("purpose", sa.Text()))
        batch.add_column(sa.Column("legal_basis", sa.String(100)))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("organisation", sa.String(200), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("organisation")
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_column("legal_basis")
        batch.drop_column("purpose")
    op.drop_table("personal_data_accesses")
