"""Callback slots belong to an area: a family is offered only its area's slots, and staff
act only on their area's. A slot's time is unique per owner within its area (the roster's
generated slots of two areas may start at the same time). Every slot there is: "default".

Revision ID: 0018n
Revises: 0018m
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018n"
down_revision = "0018m"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_slots") as batch:
        batch.add_column(sa.Column("area", sa.String(32), nullable=False, server_default="default"))
        batch.drop_constraint("uq_callback_slot", type_="unique")
        batch.create_unique_constraint("uq_callback_slot", ["starts_at", "owner", "area"])
    op.create_index("ix_callback_slots_area", "callback_slots", ["area", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_callback_slots_area", table_name="callback_slots")
    op.execute("DELETE FROM callback_slots WHERE area <> 'default'")  # no area to keep them in
    with op.batch_alter_table("callback_slots") as batch:
        batch.drop_constraint("uq_callback_slot", type_="unique")
        batch.create_unique_constraint("uq_callback_slot", ["starts_at", "owner"])
        batch.drop_column("area")
