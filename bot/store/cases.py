"""Case queries the router and the queue share."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.enums import CaseStatus
from bot.store.models import Case


def case_status(session: Session, reference: str) -> CaseStatus | None:
    """The status of the case with this reference, or None when there is none (deleted)."""
    status = session.scalars(select(Case.status).where(Case.reference == reference)).first()
    return None if status is None else CaseStatus(status)
