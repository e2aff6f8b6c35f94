"""What operating the service needs from the database: whether it answers, and the figures
the metrics show (queue length, waiting time, undelivered notices and replies). Counts and
ages only: no text, no ids, no identities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.enums import CaseStatus
from bot.store.models import (
    Case,
    Conversation,
    DeliveryStatus,
    NotificationDelivery,
    Outbox,
)
from bot.store.repo import aware


@dataclass(frozen=True)
class QueueFigures:
    """Open cases nobody has claimed: how many, how long the oldest has waited (0 when none
    waits), and how many waited longer than their target."""

    unclaimed: int
    oldest_waiting_s: float
    over_target: int


@dataclass(frozen=True)
class OperatingFigures:
    """The queue by urgency, staff notice deliveries not sent (``undelivered``) or given up
    (``failed``), and replies waiting in the outbox by channel."""

    urgent: QueueFigures
    normal: QueueFigures
    notifications_undelivered: int
    notifications_failed: int
    outbox_undelivered: dict[str, int]


def ping(sessions: sessionmaker[Session]) -> None:
    """A trivial query that reads the schema; raises when the database does not answer."""
    with sessions() as session:
        session.execute(select(Conversation.id).limit(1)).first()


def _queue(session: Session, urgent: bool, now: datetime, target: timedelta) -> QueueFigures:
    waiting = (Case.status == CaseStatus.OPEN) & (Case.urgent.is_(urgent))
    count, oldest = session.execute(
        select(func.count(Case.id), func.min(Case.created_at)).where(waiting)
    ).one()
    late = session.scalar(
        select(func.count(Case.id)).where(waiting, Case.created_at <= now - target)
    )
    age = 0.0 if oldest is None else max(0.0, (now - aware(oldest)).total_seconds())
    return QueueFigures(int(count or 0), round(age, 1), int(late or 0))


def operating_figures(
    sessions: sessionmaker[Session],
    now: datetime,
    target: timedelta,
    urgent_target: timedelta,
) -> OperatingFigures:
    """The figures as they stand at ``now`` (one read-only transaction)."""
    with sessions() as session:
        deliveries = dict(
            session.execute(
                select(NotificationDelivery.status, func.count(NotificationDelivery.id))
                .where(
                    NotificationDelivery.status.in_(
                        (str(DeliveryStatus.PENDING), str(DeliveryStatus.FAILED))
                    )
                )
                .group_by(NotificationDelivery.status)
            )
            .tuples()
            .all()
        )
        outbox = session.execute(
            select(Conversation.channel, func.count(Outbox.id))
            .join(Conversation, Outbox.conversation_id == Conversation.id)
            .where(Outbox.delivered_at.is_(None))
            .group_by(Conversation.channel)
        ).all()
        return OperatingFigures(
            urgent=_queue(session, True, now, urgent_target),
            normal=_queue(session, False, now, target),
            notifications_undelivered=int(deliveries.get(str(DeliveryStatus.PENDING), 0)),
            notifications_failed=int(deliveries.get(str(DeliveryStatus.FAILED), 0)),
            outbox_undelivered={channel: int(count) for channel, count in outbox},
        )
