"""Which area a case belongs to (a query in the caller's transaction)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import Case


def case_area(session: Session, reference: str) -> str | None:
    """The area of the case with this reference (None when there is no such case)."""
    return session.scalar(select(Case.area).where(Case.reference == reference))
