"""plans: approval_required, whether subscribing under a plan waits for the agency's decision

Revision ID: 0005_plan_approval
Revises: 0004_i14_portal_sessions
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_plan_approval"
down_revision: str | None = "0004_i14_portal_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("approval_required", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("approval_required")
