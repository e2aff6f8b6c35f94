"""When the los is writing to the citizen: the console marks it while she types, for a few
seconds at a time, and the citizen's web chat shows "Familielosen skriver …". A moment,
not a record: no text, cleared when her reply is sent.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("los_typing_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.drop_column("los_typing_until")
