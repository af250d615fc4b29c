"""portal sessions: server-side sign-in sessions of the developer portal (issue 14, item 11)

Revision ID: 0004_i14_portal_sessions
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import registry.models.base

revision: str = "0004_i14_portal_sessions"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = registry.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("developer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_portal_sessions_developer_id_developers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_portal_sessions")),
    )
    op.create_index(
        op.f("ix_portal_sessions_developer_id"), "portal_sessions", ["developer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_sessions_developer_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
