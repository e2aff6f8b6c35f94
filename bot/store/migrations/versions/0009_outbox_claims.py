"""Outbox messages keep their short form and are claimed by one delivery at a time.

A reply the channel could not send at once (or the answer to a message recovered after a
crash) keeps its short form for SMS, so a crisis answer sent later is the same two SMS with
the numbers first. ``claim``/``claimed_until``: the process delivering a conversation's
outbox holds it for a while, so two processes never send the same message; a claim left by
a crashed process runs out.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("short", sa.Text(), nullable=True))
        batch.add_column(sa.Column("claim", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claim")
        batch.drop_column("short")
