"""Service content that staff keep up to date: every change to a service text, a contact
detail or the opening hours (the history; the newest per key is in force), and the revision
counter the replicas read to learn of a change.

Revision ID: 0018e
Revises: 0017d
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018e"
down_revision = "0017d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("register", sa.String(8), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("previous", sa.Text, nullable=True),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_content_changes_key", "content_changes", ["kind", "service", "field", "language"]
    )
    revision_table = op.create_table(
        "content_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("content_revision")
    op.drop_index("ix_content_changes_key", table_name="content_changes")
    op.drop_table("content_changes")
