"""Replies know the message they answer, with their buttons, so a retried message can be
answered again from what was recorded (the web chat's idempotent retry). Crisis flags record
their kind and the lexicon version (or "model") that raised them; a case its crisis kind.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to", sa.Integer, nullable=True))
        batch.add_column(sa.Column("buttons", sa.Text, nullable=True))
        batch.add_column(sa.Column("crisis_category", sa.String(32), nullable=True))
        batch.add_column(sa.Column("crisis_lexicon", sa.String(32), nullable=True))
        batch.create_index("ix_messages_reply_to", ["reply_to"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("crisis_category", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("crisis_category")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("crisis_lexicon")
        batch.drop_column("crisis_category")
        batch.drop_index("ix_messages_reply_to")
        batch.drop_column("buttons")
        batch.drop_column("reply_to")
