"""The on-duty familielos queue: list, read, claim, reply, transfer, close, escalate.

Every staff action is written to the audit log (who, what, which case; never text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.i18n import Catalogs
from bot.notifications import NoticeKind, Notices
from bot.settings import Settings
from bot.staff import Staffing
from bot.store.audit import audit
from bot.store.enums import CaseStatus
from bot.store.models import Case, Conversation, Message, Outbox
from bot.store.repo import buttons_to_json, record_event
from flows.case import case_closed_event
from flows.types import N_, Outbound


class QueueError(Exception):
    """A staff action that cannot be done (unknown case, not yours, already claimed)."""


@dataclass(frozen=True)
class QueueItem:
    """One case as the los sees it in the queue."""

    reference: str
    priority: str
    crisis: str | None
    """The kind of danger that made it urgent: self_harm, violence_abuse, acute_danger,
    homeless (None when not a crisis)."""
    status: str
    waiting_minutes: int
    language: str
    topic: str | None
    consent_scope: str | None
    anonymous: bool
    channel: str
    claimed_by: str | None
    preferred_staff: str | None
    previous_reference: str | None
    unread: int
    unreachable: bool

    def as_json(self) -> dict[str, object]:
        """The --json shape."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class CaseView:
    """A case opened by a los: the intake and the whole conversation since."""

    item: QueueItem
    about: str | None
    age_band: str | None
    contact: str | None
    callback: str | None
    description: list[str]
    messages: list[tuple[str, str, str]]  # (time, sender, text)


class Queue:
    """Staff-side operations on cases."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        catalogs: Catalogs,
        staffing: Staffing,
        notices: Notices,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.catalogs = catalogs
        self.staffing = staffing
        self.notices = notices
        self.clock = clock

    def open_cases(self, staff_id: str) -> list[QueueItem]:
        """Open and claimed cases: urgent first, then by waiting time."""
        self.staffing.require(staff_id)
        now = self.clock()
        with self.sessions.begin() as session:
            rows = session.execute(
                select(Case, Conversation.unreachable)
                .join(Conversation, Case.conversation_id == Conversation.id, isouter=True)
                .where(Case.status.in_(("open", "claimed")))
                .order_by(sql_case((Case.urgent, 0), else_=1), Case.created_at)
            ).all()
            audit(session, now, staff_id, "list_queue", detail=f"{len(rows)} cases")
            return [self._item(case, bool(unreachable), now) for case, unreachable in rows]

    def _item(self, case: Case, unreachable: bool, now: datetime) -> QueueItem:
        created = (
            case.created_at
            if case.created_at.tzinfo
            else case.created_at.replace(tzinfo=now.tzinfo)
        )
        return QueueItem(
            reference=case.reference,
            priority="urgent" if case.urgent else "normal",
            crisis=case.crisis_category,
            status=case.status,
            waiting_minutes=int((now - created).total_seconds() // 60),
            language=case.language,
            topic=case.topic,
            consent_scope=case.consent_scope,
            anonymous=case.anonymous,
            channel=case.channel,
            claimed_by=case.claimed_by,
            preferred_staff=case.preferred_staff,
            previous_reference=case.previous_reference,
            unread=case.citizen_unread,
            unreachable=unreachable,
        )

    def _case(self, session: Session, reference: str) -> Case:
        case = session.scalars(select(Case).where(Case.reference == reference)).first()
        if case is None:
            raise QueueError(f"no case {reference}")
        return case

    def claim(self, reference: str, staff_id: str) -> bool:
        """Take an open case: one atomic UPDATE, so of two staff claiming at once one wins."""
        self.staffing.require(staff_id)
        now = self.clock()
        with self.sessions.begin() as session:
            result = session.execute(
                update(Case)
                .where(Case.reference == reference, Case.status == "open")
                .values(status="claimed", claimed_by=staff_id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            won = bool(result.rowcount == 1)  # type: ignore[attr-defined]
            audit(session, now, staff_id, "claim" if won else "claim_lost", reference)
        return won

    def view(self, reference: str, staff_id: str) -> CaseView:
        """Read a case. The citizen is told their messages have been read."""
        self.staffing.require(staff_id)
        now = self.clock()
        with self.sessions.begin() as session:
            case = self._case(session, reference)
            unreachable = False
            messages: list[tuple[str, str, str]] = []
            if case.conversation_id is not None:
                conversation = session.get_one(Conversation, case.conversation_id)
                unreachable = conversation.unreachable
                rows = session.scalars(
                    select(Message).where(Message.case_reference == reference).order_by(Message.id)
                ).all()
                newly_read = [m for m in rows if m.sender == "citizen" and m.read_at is None]
                messages = [
                    (m.created_at.isoformat(timespec="minutes"), m.sender, m.text) for m in rows
                ]
                if case.claimed_by == staff_id and (newly_read or case.citizen_unread):
                    for message in newly_read:
                        message.read_at = now
                    case.citizen_unread = 0
                    self._push(session, conversation, N_("case.read_receipt"), sender="receipt")
            item = self._item(case, unreachable, now)
            audit(session, now, staff_id, "read_case", reference)
            return CaseView(
                item,
                case.about,
                case.age_band,
                case.contact,
                case.callback,
                json.loads(case.description or "[]"),
                messages,
            )

    def _owned(self, session: Session, reference: str, staff_id: str) -> Case:
        case = self._case(session, reference)
        if case.status != "claimed" or case.claimed_by != staff_id:
            raise QueueError(f"{reference} is not claimed by {staff_id}; claim it first")
        return case

    def reply(self, reference: str, staff_id: str, text: str) -> None:
        """Send a los message to the citizen through their own channel."""
        self.staffing.require(staff_id)
        text = text.strip()
        if not text:
            raise QueueError("empty reply")
        now = self.clock()
        with self.sessions.begin() as session:
            case = self._owned(session, reference, staff_id)
            if case.conversation_id is None:
                raise QueueError(f"{reference} has no conversation to reply to")
            conversation = session.get_one(Conversation, case.conversation_id)
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction="out",
                    sender="los",
                    text=text,
                    language=conversation.language,
                    created_at=now,
                    handled_at=now,
                    case_reference=reference,
                )
            )
            session.add(
                Outbox(
                    conversation_id=conversation.id,
                    sender="los",
                    text=text,
                    buttons="[]",
                    language=conversation.language,
                    created_at=now,
                )
            )
            audit(session, now, staff_id, "reply", reference)

    def transfer(self, reference: str, staff_id: str, to_staff: str) -> None:
        """Hand a claimed case to a colleague."""
        self.staffing.require(to_staff)
        now = self.clock()
        with self.sessions.begin() as session:
            case = self._owned(session, reference, staff_id)
            case.claimed_by = to_staff
            self.notices.raise_notice(
                session, now, NoticeKind.TRANSFERRED, reference, to=to_staff
            )
            audit(session, now, staff_id, "transfer", reference, detail=f"to {to_staff}")

    def close(self, reference: str, staff_id: str, outcome: str) -> None:
        """Close with an outcome. The conversation gets an event: the router (the one writer
        of conversation state) then asks the citizen for feedback (1-5)."""
        now = self.clock()
        with self.sessions.begin() as session:
            case = self._owned(session, reference, staff_id)
            case.status, case.closed_at = CaseStatus.CLOSED, now
            case.outcome = outcome.strip()[:200]
            if case.conversation_id is not None:  # the router asks the citizen for feedback
                record_event(session, case.conversation_id, case_closed_event(reference), now)
            audit(session, now, staff_id, "close", reference, detail=outcome.strip()[:100])

    def escalate_due(self) -> list[str]:
        """Unclaimed cases waiting too long (urgent ones after
        ``queue.urgent_escalate_after_minutes``, others after ``escalate_after_minutes``):
        notify on-duty staff and leaders (and, for urgent ones out of hours, the on-call
        target). Returns the references escalated now."""
        now = self.clock()
        normal = now - timedelta(minutes=self.settings.queue.escalate_after_minutes)
        urgent = now - timedelta(minutes=self.settings.queue.urgent_escalate_after_minutes)
        escalated = []
        with self.sessions.begin() as session:
            due = session.scalars(
                select(Case).where(
                    Case.status == "open",
                    Case.escalated_at.is_(None),
                    or_(
                        Case.created_at <= normal,
                        and_(Case.urgent.is_(True), Case.created_at <= urgent),
                    ),
                )
            ).all()
            for case in due:
                case.escalated_at = now
                kind = NoticeKind.URGENT_ESCALATION if case.urgent else NoticeKind.ESCALATION
                self.notices.raise_notice(session, now, kind, case.reference)
                audit(session, now, "system", "escalate", case.reference)
                escalated.append(case.reference)
        return escalated

    def _push(
        self,
        session: Session,
        conversation: Conversation,
        key: str | None,
        message: Outbound | None = None,
        sender: str = "bot",
    ) -> None:
        if message is None:
            assert key is not None
            message = Outbound(self.catalogs(key, conversation.language), conversation.language)
        session.add(
            Outbox(
                conversation_id=conversation.id,
                sender=sender,
                text=message.text,
                buttons=buttons_to_json(message.buttons),
                language=message.language,
                created_at=self.clock(),
            )
        )
