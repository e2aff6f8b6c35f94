"""Staff notices in the store: who was told what, and leaving new notices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import StaffNotification


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
