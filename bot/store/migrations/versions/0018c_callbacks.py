"""Calls at a time that suits: callback slots (published or generated), each holding at most
one case's call, and how the family wanted the call (``cases.callback_when``).

Revision ID: 0018c
Revises: 0017d
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018c"
down_revision = "0018e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_slots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("starts_at", "owner", name="uq_callback_slot"),
    )
    op.create_index("ix_callback_slots_starts_at", "callback_slots", ["starts_at"])
    op.create_index("ix_callback_slots_case", "callback_slots", ["case_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("callback_when", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("callback_when")
    op.drop_index("ix_callback_slots_case", table_name="callback_slots")
    op.drop_index("ix_callback_slots_starts_at", table_name="callback_slots")
    op.drop_table("callback_slots")
