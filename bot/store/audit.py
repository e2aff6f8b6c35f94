"""The audit log: who did what to which case, when (never message text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import AuditEntry


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as an operator reads it."""

    at: datetime
    actor: str
    action: str
    reference: str | None
    detail: str | None


def audit(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    reference: str | None = None,
    detail: str | None = None,
) -> None:
    """Record who did what (never message text), in the caller's transaction."""
    session.add(
        AuditEntry(at=now, actor=actor, action=action, case_reference=reference, detail=detail)
    )


def audit_lines(session: Session) -> list[AuditLine]:
    """The whole audit log, oldest first."""
    return [
        AuditLine(e.at, e.actor, e.action, e.case_reference, e.detail)
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]
