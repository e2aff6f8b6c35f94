"""Unplaced notes: messages the bot could not place, masked, for the content editors. No
conversation id and no time of day; the text is encrypted like every citizen text.

Revision ID: 0017u
Revises: 0016
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017u"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unplaced_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("guessed", sa.String(32), nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("chosen", sa.String(32), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("choice_token", sa.String(32), nullable=True, unique=True),
    )
    op.create_index("ix_unplaced_notes_day", "unplaced_notes", ["day"])


def downgrade() -> None:
    op.drop_index("ix_unplaced_notes_day", table_name="unplaced_notes")
    op.drop_table("unplaced_notes")
