"""Messages handled one at a time, in order, across processes, and nothing lost on the way:
a version on each conversation (a step computed on an older state is not saved), the button
pressed, media kind and language hint of each inbound message (so a recovered message is
the same message), attempts and the kind of the last failure; the platform address to push
to; outbox rows that answer a message, with their delivery attempts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("push_address", sa.Text(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("button", sa.String(200), nullable=True))
        batch.add_column(sa.Column("media", sa.String(16), nullable=True))
        batch.add_column(sa.Column("hint", sa.String(8), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("failure", sa.String(64), nullable=True))
        batch.alter_column("direction", type_=sa.String(5), existing_type=sa.String(3))
        batch.create_index("ix_messages_unhandled", ["conversation_id", "handled_at", "id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reply_to", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
        batch.drop_column("reply_to")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_unhandled")
        batch.alter_column("direction", type_=sa.String(3), existing_type=sa.String(5))
        for column in ("failure", "attempts", "hint", "media", "button"):
            batch.drop_column(column)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("push_address")
        batch.drop_column("version")
