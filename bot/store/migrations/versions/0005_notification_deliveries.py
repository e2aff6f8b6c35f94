"""Staff notices are delivered by e-mail and SMS: one row per notice, transport and address,
with its status, attempts, next attempt and the kind of the last error (never its text); a
notice records when its deliveries were planned. Notices left before this revision are
marked planned, without deliveries, so an upgrade does not send old news.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_notifications") as batch:
        batch.add_column(
            sa.Column("deliveries_planned_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_index(
            "ix_staff_notifications_deliveries_planned_at", ["deliveries_planned_at"]
        )
    op.execute(
        "UPDATE staff_notifications SET deliveries_planned_at = created_at "
        "WHERE deliveries_planned_at IS NULL"
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "notification_id",
            sa.Integer,
            sa.ForeignKey("staff_notifications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("transport", sa.String(8), nullable=False),
        sa.Column("target", sa.String(320), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_kind", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("notification_id", "transport", "target", name="uq_delivery_target"),
    )
    op.create_index("ix_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"])
    op.create_index(
        "ix_notification_deliveries_notification_id",
        "notification_deliveries",
        ["notification_id"],
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    with op.batch_alter_table("staff_notifications") as batch:
        batch.drop_index("ix_staff_notifications_deliveries_planned_at")
        batch.drop_column("deliveries_planned_at")
