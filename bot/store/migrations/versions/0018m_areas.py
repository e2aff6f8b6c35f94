"""Several municipalities (areas) on one installation: the area of a conversation, of a
case, of a staff account, of a content change and of an unplaced note ("default" for every
row there is: an installation without areas has only that one).

Revision ID: 0018m
Revises: 0018t
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018m"
down_revision = "0018t"
branch_labels = None
depends_on = None

TABLES = ("conversations", "cases", "staff_accounts", "content_changes", "unplaced_notes")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("area", sa.String(32), nullable=False, server_default="default")
            )
    op.create_index("ix_cases_area", "cases", ["area"])


def downgrade() -> None:
    op.drop_index("ix_cases_area", table_name="cases")
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("area")
