"""Deliveries of staff notices in the store: planned per notice and address, claimed by one
dispatcher with an atomic UPDATE, their outcome recorded. Never any text: only kinds, case
references, addresses and error kinds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import (
    Case,
    DeliveryStatus,
    DeliveryTransport,
    NotificationDelivery,
    StaffNotification,
)

PLAN_BATCH = 200


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery this dispatcher holds, with what its text is composed from."""

    id: int
    transport: DeliveryTransport
    target: str
    attempts: int
    kind: str
    reference: str | None
    danger: str | None
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What came of one attempt: sent, given up (``FAILED``), or to retry (``PENDING``
    with ``retry_at``)."""

    status: DeliveryStatus
    error_kind: str | None = None
    retry_at: datetime | None = None


class DeliveryRepo:
    """Notice deliveries; safe to use from several processes at once."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def plan(
        self,
        targets: Callable[[str, str], Sequence[tuple[DeliveryTransport, str]]],
        now: datetime,
    ) -> int:
        """Deliveries (``targets(staff_id, kind)``) for notices not planned yet; each notice
        is marked planned with one atomic UPDATE, so two dispatchers never plan it twice.
        Returns how many deliveries were planned."""
        planned = 0
        with self.sessions.begin() as session:
            fresh = session.execute(
                select(StaffNotification.id, StaffNotification.staff_id, StaffNotification.kind)
                .where(StaffNotification.deliveries_planned_at.is_(None))
                .order_by(StaffNotification.id)
                .limit(PLAN_BATCH)
            ).all()
            for notice_id, staff_id, kind in fresh:
                taken = session.execute(
                    update(StaffNotification)
                    .where(
                        StaffNotification.id == notice_id,
                        StaffNotification.deliveries_planned_at.is_(None),
                    )
                    .values(deliveries_planned_at=now)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                for transport, target in targets(staff_id, kind):
                    session.add(
                        NotificationDelivery(
                            notification_id=notice_id,
                            transport=str(transport),
                            target=target,
                            status=str(DeliveryStatus.PENDING),
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                    planned += 1
        return planned

    def claim_due(self, now: datetime, until: datetime, batch: int) -> list[ClaimedDelivery]:
        """Claim up to ``batch`` due pending deliveries until ``until``, each with one atomic
        UPDATE (of two dispatchers claiming the same one, one wins)."""
        free = or_(
            NotificationDelivery.claimed_until.is_(None), NotificationDelivery.claimed_until < now
        )
        pending = NotificationDelivery.status == str(DeliveryStatus.PENDING)
        with self.sessions.begin() as session:
            due = session.scalars(
                select(NotificationDelivery.id)
                .where(pending, NotificationDelivery.next_attempt_at <= now, free)
                .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
                .limit(2 * batch)  # room for losing some to another dispatcher
            ).all()
            won: list[int] = []
            for delivery_id in due:
                if len(won) == batch:
                    break
                claimed = session.execute(
                    update(NotificationDelivery)
                    .where(NotificationDelivery.id == delivery_id, pending, free)
                    .values(claimed_until=until)
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    won.append(delivery_id)
            if not won:
                return []
            rows = session.execute(
                select(NotificationDelivery, StaffNotification, Case.crisis_category)
                .join(StaffNotification)
                .outerjoin(Case, Case.reference == StaffNotification.case_reference)
                .where(NotificationDelivery.id.in_(won))
                .order_by(NotificationDelivery.id)
            ).all()
            return [
                ClaimedDelivery(
                    delivery.id,
                    DeliveryTransport(delivery.transport),
                    delivery.target,
                    delivery.attempts,
                    notice.kind,
                    notice.case_reference,
                    danger,
                    notice.created_at,
                )
                for delivery, notice, danger in rows
            ]

    def record(self, delivery_id: int, attempts: int, outcome: Outcome, now: datetime) -> None:
        """Record an attempt's outcome and release the claim (unless another dispatcher
        already finished the delivery)."""
        values: dict[str, object] = {
            "attempts": attempts,
            "claimed_until": None,
            "status": str(outcome.status),
            "last_error_kind": outcome.error_kind,
        }
        if outcome.status is DeliveryStatus.SENT:
            values["sent_at"] = now
        if outcome.retry_at is not None:
            values["next_attempt_at"] = outcome.retry_at
        with self.sessions.begin() as session:
            session.execute(
                update(NotificationDelivery)
                .where(
                    NotificationDelivery.id == delivery_id,
                    NotificationDelivery.status == str(DeliveryStatus.PENDING),
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
