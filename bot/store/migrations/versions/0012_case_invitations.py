"""Familieteam: service members invited into a case by the los (read the case, write notes);
revoked when consent is withdrawn, deleted with the case.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_invitations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("invited_by", sa.String(64), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("case_id", "staff_id", name="uq_case_invitation_member"),
    )
    op.create_index("ix_case_invitations_member", "case_invitations", ["staff_id", "revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_case_invitations_member", table_name="case_invitations")
    op.drop_table("case_invitations")
