"""Staff contact addresses in the database: where a staff member's notices go by e-mail and
(urgent ones) by SMS. The roster in config.yml fills them for the accounts it seeds;
`inngang staff add --email --phone` sets them for the rest. Staff data, no citizen data.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as table:
        table.add_column(sa.Column("email", sa.String(254), nullable=True))
        table.add_column(sa.Column("phone", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as table:
        table.drop_column("phone")
        table.drop_column("email")
