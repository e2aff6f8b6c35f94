"""Which area a case belongs to (a query in the caller's transaction), and a refused reach
into another area, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.audit import audit
from bot.store.models import Case

OTHER_AREA = "other_area"
"""The audit action of a refused reach into another area's case, content or calls."""


def case_area(session: Session, reference: str) -> str | None:
    """The area of the case with this reference (None when there is no such case)."""
    return session.scalar(select(Case.area).where(Case.reference == reference))


def record_refusal(sessions: sessionmaker[Session], now: datetime, actor: str, detail: str) -> None:
    """Audit a refused reach into another area (what and whose: never citizen text), in a
    transaction of its own."""
    with sessions.begin() as session:
        audit(session, now, actor, OTHER_AREA, None, detail[:200])
