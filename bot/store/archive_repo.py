"""A case read for the archive (journalføring): the case as the los reads it, with its
consent records, its closing and who held it. The record is built outside the transaction
that read it (no connection is held while a PDF is made) and audited as ``case_exported``
before it is handed back, so no record leaves without its audit entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.audit import audit
from bot.store.cases import case_strengths, case_worries, description_lines
from bot.store.enums import CaseStatus
from bot.store.models import Case, CaseNote, Conversation
from bot.store.own_voice import rounds_of
from bot.store.queue_repo import (
    CaseMessage,
    CaseView,
    ConsentRecord,
    Note,
    QueueError,
    _aware,
    _case,
    _consents,
    _conversation,
    _item,
)

T = TypeVar("T")


@dataclass(frozen=True)
class CaseRecord:
    """Everything the archive copy of a case holds. An anonymous case carries no contact
    details: ``view.contact`` and ``view.callback`` are None."""

    view: CaseView
    consents: tuple[ConsentRecord, ...]
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str | None


def _exportable(case: Case, staff_id: str) -> None:
    """The los who holds the case may export it; once it is closed, any los or leader may
    (as any may read it). An open case has nobody responsible yet; a case whose consent was
    withdrawn had its words deleted with the withdrawal."""
    if case.status == CaseStatus.CLAIMED and case.claimed_by == staff_id:
        return
    if case.status == CaseStatus.CLOSED:
        return
    if case.status == CaseStatus.WITHDRAWN:
        raise QueueError(f"{case.reference}: consent was withdrawn; there is nothing to export")
    raise QueueError(
        f"{case.reference} is exported by the los who holds it, or by anyone once it is closed"
    )


def _record(session: Session, case: Case, now: datetime) -> CaseRecord:
    unreachable = False
    conversation: tuple[CaseMessage, ...] = ()
    if case.conversation_id is not None:
        unreachable = session.get_one(Conversation, case.conversation_id).unreachable
        conversation = _conversation(session, case, now)
    notes = tuple(
        Note(_aware(n.created_at, now), n.author, n.text)
        for n in session.scalars(
            select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
        )
    )
    consents = _consents(session, case, now)
    anonymous = case.anonymous
    view = CaseView(
        _item(case, unreachable, now),
        case.about,
        case.age_band,
        None if anonymous else case.contact,
        None if anonymous else case.callback,
        description_lines(case.description),
        [],
        conversation,
        notes,
        worries=case_worries(case.description),
        own_voice=rounds_of(session, case.id, now),
        strengths=case_strengths(case.description),
    )
    return CaseRecord(
        view,
        consents,
        _aware(case.claimed_at, now) if case.claimed_at else None,
        _aware(case.closed_at, now) if case.closed_at else None,
        case.outcome,
    )


class ArchiveRepo:
    """Reads a case for its archive copy. Synchronous; call it through a thread pool."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def export(
        self,
        reference: str,
        staff_id: str,
        now: datetime,
        build: Callable[[CaseRecord], tuple[T, str]],
    ) -> T:
        """Read the case, hand it to ``build`` (which returns what it made and the audit
        detail: a checksum, never text), then audit ``case_exported``; only then is what was
        made handed back. When building fails nothing is audited and nothing leaves.
        QueueError when the case is unknown or not this staff member's to export."""
        with self.sessions.begin() as session:
            case = _case(session, reference)
            _exportable(case, staff_id)
            record = _record(session, case, now)
        made, detail = build(record)
        with self.sessions.begin() as session:
            audit(session, now, staff_id, "case_exported", reference, detail=detail[:200])
        return made
