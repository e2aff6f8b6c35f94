"""Cases, outbox, consent records and texts, audit log, staff duty and notifications.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(
            sa.Column("unreachable", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("case_reference", sa.String(16), nullable=True))
        batch.add_column(sa.Column("read_at", TZ, nullable=True))
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("consent_scope", sa.String(200), nullable=True),
        sa.Column("about", sa.String(16), nullable=True),
        sa.Column("age_band", sa.String(16), nullable=True),
        sa.Column("contact", sa.String(16), nullable=True),
        sa.Column("callback", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("preferred_staff", sa.String(64), nullable=True),
        sa.Column("previous_reference", sa.String(16), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("escalated_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
        sa.Column("feedback_score", sa.Integer, nullable=True),
        sa.Column("citizen_unread", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_cases_queue", "cases", ["status", "urgent", "created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("buttons", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("delivered_at", TZ, nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["conversation_id", "delivered_at"])
    op.create_table(
        "consent_texts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("case_reference", sa.String(16), nullable=True),
        sa.Column(
            "text_sha256", sa.String(64), sa.ForeignKey("consent_texts.sha256"), nullable=False
        ),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("given_at", TZ, nullable=False),
        sa.Column("withdrawn_at", TZ, nullable=True),
        sa.Column("erased_at", TZ, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("case_reference", sa.String(16), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
    )
    op.create_table(
        "staff_duty",
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("on_duty", sa.Boolean, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "staff_notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_reference", sa.String(16), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("seen_at", TZ, nullable=True),
    )


def downgrade() -> None:
    for table in ("staff_notifications", "staff_duty", "audit_log", "consents", "consent_texts"):
        op.drop_table(table)
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_cases_queue", table_name="cases")
    op.drop_table("cases")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("read_at")
        batch.drop_column("case_reference")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("unreachable")
        batch.drop_column("urgent")
        batch.drop_column("anonymous")
