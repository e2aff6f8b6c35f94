"""Encryption at rest, and the retention promised in a consent.

Citizen text (message and outbox texts, a case's description, call-back number and contact
choice, the conversation state with the intake draft) is now stored encrypted by
``bot.store.crypto.EncryptedText``. A migration cannot know the data key, so existing rows are
left as they are: reading treats a value without the ciphertext prefix as plaintext, and the
application encrypts such rows at start-up (and ``inngang keys rotate`` does too). Here only
the schema changes: ``cases.contact`` becomes TEXT (a ciphertext is longer than 16
characters), and each consent records the days its text promised to keep a closed case.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("contact", type_=sa.Text(), existing_type=sa.String(16))


def downgrade() -> None:
    # cases.contact stays TEXT: its values are ciphertext now, longer than the old 16.
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("retention_days")
