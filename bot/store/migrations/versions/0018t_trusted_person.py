"""A trusted person in the conversation (mitt nettverk): one-time codes (keyed hashes) a
young person shares, and the people who joined their case with a first name.

Revision ID: 0018t
Revises: 0017d
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018t"
down_revision = "0018c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_invites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "used_by",
            sa.Integer,
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_trusted_invites_case_id", "trusted_invites", ["case_id"])
    op.create_table(
        "case_participants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "invite_id",
            sa.Integer,
            sa.ForeignKey("trusted_invites.id", ondelete="SET NULL"),
            nullable=True,
            unique=True,
        ),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("rules_version", sa.String(32), nullable=False),
        sa.Column("rules_sha256", sa.String(64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(16), nullable=True),
    )
    op.create_index("ix_case_participants_case", "case_participants", ["case_id", "removed_at"])
    op.create_index(
        "ix_case_participants_conversation",
        "case_participants",
        ["conversation_id", "removed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_case_participants_conversation", table_name="case_participants")
    op.drop_index("ix_case_participants_case", table_name="case_participants")
    op.drop_table("case_participants")
    op.drop_index("ix_trusted_invites_case_id", table_name="trusted_invites")
    op.drop_table("trusted_invites")
