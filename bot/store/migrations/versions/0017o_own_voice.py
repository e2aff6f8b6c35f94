"""The child's own voice before a meeting: question sets (staff-written), the rounds a los
sent on a case and which questions were answered (the words are the case's messages).

Revision ID: 0017o
Revises: 0017u
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017o"
down_revision = "0017u"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "own_voice_sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("intro", sa.Text, nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("thanks", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_own_voice_sets_language", "own_voice_sets", ["language", "title"])
    op.create_table(
        "own_voice_rounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("sent_by", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_own_voice_rounds_case", "own_voice_rounds", ["case_id", "id"])
    op.create_table(
        "own_voice_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer,
            sa.ForeignKey("own_voice_rounds.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("round_id", "position", name="uq_own_voice_answer"),
    )


def downgrade() -> None:
    op.drop_table("own_voice_answers")
    op.drop_index("ix_own_voice_rounds_case", table_name="own_voice_rounds")
    op.drop_table("own_voice_rounds")
    op.drop_index("ix_own_voice_sets_language", table_name="own_voice_sets")
    op.drop_table("own_voice_sets")
