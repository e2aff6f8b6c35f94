"""Saved answers: replies a los inserts and edits before sending, per citizen language, kept
by a leader. Staff-written, no citizen data.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saved_answers_language", "saved_answers", ["language", "title"])


def downgrade() -> None:
    op.drop_index("ix_saved_answers_language", table_name="saved_answers")
    op.drop_table("saved_answers")
