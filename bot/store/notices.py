"""Staff notices in the store: who was told what, leaving new notices, and reading them back
with their deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.models import DeliveryStatus, NotificationDelivery, StaffNotification
from bot.store.repo import aware


@dataclass(frozen=True)
class DeliveryState:
    """One delivery of a notice as staff see it."""

    transport: str
    status: DeliveryStatus
    attempts: int


@dataclass(frozen=True)
class NoticeRecord:
    """A notice with its deliveries, as stored."""

    id: int
    kind: str
    reference: str | None
    created_at: datetime
    seen: bool
    deliveries: tuple[DeliveryState, ...]

    @property
    def undelivered(self) -> bool:
        """Some delivery was given up."""
        return any(d.status == DeliveryStatus.FAILED for d in self.deliveries)


def recently_told(
    session: Session, reference: str | None, kinds: Iterable[str], since: datetime
) -> set[str]:
    """Staff ids told about this case with one of these kinds since ``since``."""
    return set(
        session.scalars(
            select(StaffNotification.staff_id).where(
                StaffNotification.case_reference == reference,
                StaffNotification.kind.in_(list(kinds)),
                StaffNotification.created_at >= since,
            )
        ).all()
    )


def leave_notices(
    session: Session, staff_ids: Iterable[str], kind: str, reference: str | None, now: datetime
) -> None:
    """One notice per staff id (the dispatcher delivers them)."""
    session.add_all(
        StaffNotification(staff_id=s, kind=kind, case_reference=reference, created_at=now)
        for s in staff_ids
    )
    session.flush()


def notices_for(
    session: Session, staff_id: str, *, unseen_only: bool = False, limit: int | None = None
) -> list[NoticeRecord]:
    """A staff member's notices, newest first, each with its deliveries per transport."""
    query = select(StaffNotification).where(StaffNotification.staff_id == staff_id)
    if unseen_only:
        query = query.where(StaffNotification.seen_at.is_(None))
    notices = session.scalars(
        query.order_by(StaffNotification.created_at.desc(), StaffNotification.id.desc()).limit(
            limit
        )
    ).all()
    deliveries: dict[int, list[DeliveryState]] = {}
    if notices:
        rows = session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.notification_id.in_([n.id for n in notices]))
            .order_by(NotificationDelivery.id)
        )
        for row in rows:
            deliveries.setdefault(row.notification_id, []).append(
                DeliveryState(row.transport, DeliveryStatus(row.status), row.attempts)
            )
    return [
        NoticeRecord(
            n.id,
            n.kind,
            n.case_reference,
            aware(n.created_at),
            n.seen_at is not None,
            tuple(deliveries.get(n.id, ())),
        )
        for n in notices
    ]


def mark_seen(session: Session, notice_ids: Sequence[int], now: datetime) -> None:
    """Mark these notices seen (``inngang queue notifications`` shows each once)."""
    if notice_ids:
        session.execute(
            update(StaffNotification)
            .where(StaffNotification.id.in_(list(notice_ids)), StaffNotification.seen_at.is_(None))
            .values(seen_at=now)
        )
