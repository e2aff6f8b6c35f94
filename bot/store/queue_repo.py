"""The los queue in the store: cases listed, read, claimed, answered, handed on, closed,
escalated. Each operation is one transaction and writes its audit entry in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, sessionmaker

from bot.notifications import NoticeKind, Notices
from bot.settings import ALL_AREAS
from bot.store import attachments, participants
from bot.store.areas import case_area
from bot.store.attachments import AttachmentFile, AttachmentLine
from bot.store.audit import audit
from bot.store.cases import case_strengths, case_worries, description_lines
from bot.store.enums import OPEN_STATUSES, OUTCOME_KINDS, CaseStatus, Direction, Sender
from bot.store.models import (
    Case,
    CaseInvitation,
    CaseNote,
    Consent,
    Conversation,
    Message,
    Outbox,
)
from bot.store.own_voice import Round, rounds_of
from bot.store.repo import record_event
from bot.trusted_codes import mask_codes
from flows.case import case_closed_event


class QueueError(Exception):
    """A staff action that cannot be done (unknown case, not yours, already claimed)."""


class AreaRefused(QueueError):
    """A staff member asked for a case of another area than their own."""


@dataclass(frozen=True)
class QueueItem:
    """One case as the los sees it in the queue."""

    reference: str
    priority: str
    crisis: str | None
    """The kind of danger that made it urgent: self_harm, violence_abuse, acute_danger,
    homeless (None when not a crisis)."""
    status: CaseStatus
    created_at: datetime
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
    area: str = "default"
    """The area (municipality) the case came in through."""

    def as_json(self) -> dict[str, object]:
        """The --json shape (the area only when the installation has several)."""
        shown = dict(self.__dict__)
        if self.area == "default":
            del shown["area"]
        return shown


@dataclass(frozen=True)
class CaseMessage:
    """One message of the conversation as the los reads it."""

    at: datetime
    sender: Sender
    text: str
    language: str | None
    before_case: bool
    """Written before the case was opened (what led to it)."""
    button: bool = False
    """A button the citizen pressed (its label is the text)."""
    id: int = 0
    """The stored message's id (what an answer before a meeting names)."""
    author: str | None = None
    """The first name of the person the young person invited who wrote it (None: the
    young person, the bot or the los)."""


@dataclass(frozen=True)
class Note:
    """A note in the case log (stafettlogg): never sent to the citizen."""

    at: datetime
    author: str
    """The staff id of who wrote it."""
    text: str


@dataclass(frozen=True)
class Invitation:
    """A service member invited into a case (familieteam): they read it and write notes."""

    staff_id: str
    service: str
    invited_by: str
    invited_at: datetime


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
    conversation: tuple[CaseMessage, ...] = ()
    """The whole conversation of the case in order: what the citizen wrote and pressed and
    what the bot and the los answered, from what led to the case (the first message
    included) until it closed."""
    notes: tuple[Note, ...] = ()
    """The case log, oldest first: staff notes, never sent to the citizen."""
    invitations: tuple[Invitation, ...] = ()
    """The service members invited into the case now, in the order they were invited."""
    consents: tuple[ConsentRecord, ...] = ()
    """The consents given for the case (none for an anonymous one), oldest first."""
    worries: tuple[str, ...] = ()
    """Worries the citizen voiced before sending ("confidentiality"), for the los."""
    own_voice: tuple[Round, ...] = ()
    """The questions sent before a meeting and the child's own words that came back."""
    strengths: str | None = None
    """What the child (or young person) likes and is good at or proud of, in the citizen's
    words: the los reads it first."""
    documents: tuple[AttachmentLine, ...] = ()
    """Documents the family sent into the case (photos, PDFs), oldest first; no bytes."""
    participants: tuple[participants.Participant, ...] = ()
    """Who the young person brought into the conversation (mitt nettverk), removed ones
    too, in the order they joined."""


@dataclass(frozen=True)
class ConsentRecord:
    """One consent given for a case: what it covered, which text, when (and withdrawn)."""

    scope: str
    version: str
    language: str
    given_at: datetime
    withdrawn_at: datetime | None


def _consents(session: Session, case: Case, now: datetime) -> tuple[ConsentRecord, ...]:
    """The consent records of a case, oldest first; none for an anonymous case."""
    if case.anonymous:
        return ()
    return tuple(
        ConsentRecord(
            c.scope,
            c.version,
            c.language,
            _aware(c.given_at, now),
            _aware(c.withdrawn_at, now) if c.withdrawn_at else None,
        )
        for c in session.scalars(
            select(Consent).where(Consent.case_reference == case.reference).order_by(Consent.id)
        )
    )


MAX_NOTE = 10_000
"""The longest note kept (characters)."""
MAX_REFERENCE = 16
"""The longest case reference (the audit's column): a longer one names no case."""


LEAD_UP = timedelta(hours=24)
"""How far back before a case the conversation that led to it is shown (never past an
earlier case of the same conversation)."""


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def _item(case: Case, unreachable: bool, now: datetime) -> QueueItem:
    created = _aware(case.created_at, now)
    return QueueItem(
        reference=case.reference,
        priority="urgent" if case.urgent else "normal",
        crisis=case.crisis_category,
        status=CaseStatus(case.status),
        created_at=created,
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
        area=case.area,
    )


def _conversation(session: Session, case: Case, now: datetime) -> tuple[CaseMessage, ...]:
    """The case's conversation: its messages, and those of the same conversation in no other
    case from the ``LEAD_UP`` before it opened (after any earlier case there closed) until
    it closed. Events and empty messages are left out."""
    created = _aware(case.created_at, now)
    since = created - LEAD_UP
    earlier_closed = session.scalars(
        select(Case.closed_at).where(
            Case.conversation_id == case.conversation_id,
            Case.id != case.id,
            Case.closed_at.is_not(None),
            Case.closed_at <= created,
        )
    ).all()
    if earlier_closed:
        since = max(since, *(_aware(c, now) for c in earlier_closed if c is not None))
    until = _aware(case.closed_at, now) if case.closed_at is not None else None
    query = select(Message).where(
        or_(  # the young person's conversation, and what the people they invited wrote in it
            Message.conversation_id == case.conversation_id,
            and_(Message.case_reference == case.reference, Message.direction == Direction.IN),
        ),
        Message.direction != Direction.EVENT,
        or_(Message.case_reference == case.reference, Message.case_reference.is_(None)),
        or_(Message.case_reference == case.reference, Message.created_at >= since),
    )
    if until is not None:
        query = query.where(Message.created_at <= until)
    authors = {p.conversation_id: p.name for p in participants.on_case(session, case.id, now)}
    shown = []
    offered: dict[str, str] = {}
    """The labels of the buttons last offered, by payload: a press is shown by its label."""
    for m in session.scalars(query.order_by(Message.id)):
        if m.direction == Direction.OUT and m.buttons:
            offered = _labels(m.buttons)
        text = mask_codes(m.text)  # a trusted person's code is the young person's alone
        if not text.strip() and m.button and m.direction == Direction.IN:
            text = offered.get(m.button, "")
        if not text.strip():
            continue
        at = _aware(m.created_at, now)
        shown.append(
            CaseMessage(
                at,
                Sender(m.sender),
                text,
                m.language,
                before_case=at < created and m.case_reference != case.reference,
                button=bool(m.button) and m.direction == Direction.IN,
                id=m.id,
                author=authors.get(m.conversation_id)
                if m.conversation_id != case.conversation_id
                else None,
            )
        )
    return tuple(shown)


def _labels(buttons: str) -> dict[str, str]:
    """A bot reply's buttons (JSON [{"label", "payload"}]) as label by payload."""
    try:
        offered = json.loads(buttons)
    except ValueError:
        return {}
    if not isinstance(offered, list):
        return {}
    return {
        str(b["payload"]): str(b["label"])
        for b in offered
        if isinstance(b, dict) and "payload" in b and "label" in b
    }


def _case(session: Session, reference: str) -> Case:
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise QueueError(f"no case {reference}")
    return case


def invitations(session: Session, case_id: int, now: datetime) -> tuple[Invitation, ...]:
    """The case's invitations that are not revoked, oldest first."""
    return tuple(
        Invitation(i.staff_id, i.service, i.invited_by, _aware(i.invited_at, now))
        for i in session.scalars(
            select(CaseInvitation)
            .where(CaseInvitation.case_id == case_id, CaseInvitation.revoked_at.is_(None))
            .order_by(CaseInvitation.invited_at, CaseInvitation.id)
        )
    )


def is_invited(session: Session, case_id: int, staff_id: str) -> bool:
    """Whether the staff member holds an invitation into the case that is not revoked."""
    found = session.scalar(
        select(CaseInvitation.id).where(
            CaseInvitation.case_id == case_id,
            CaseInvitation.staff_id == staff_id,
            CaseInvitation.revoked_at.is_(None),
        )
    )
    return found is not None


def _owned(session: Session, reference: str, staff_id: str) -> Case:
    case = _case(session, reference)
    if case.status != CaseStatus.CLAIMED or case.claimed_by != staff_id:
        raise QueueError(f"{reference} is not claimed by {staff_id}; claim it first")
    return case


def _to_outbox(
    session: Session, conversation: Conversation, sender: Sender, text: str, now: datetime
) -> None:
    session.add(
        Outbox(
            conversation_id=conversation.id,
            sender=sender,
            text=text,
            buttons="[]",
            language=conversation.language,
            created_at=now,
        )
    )


class QueueRepo:
    """Case persistence for the staff side. Methods are synchronous (one transaction each);
    call them from ``async`` code through a thread pool."""

    def __init__(self, sessions: sessionmaker[Session], notices: Notices) -> None:
        self.sessions = sessions
        self.notices = notices

    def open_cases(
        self, staff_id: str, now: datetime, *, audited: bool = True, area: str = ALL_AREAS
    ) -> list[QueueItem]:
        """Open and claimed cases (of ``area``; ``all``: every area's): urgent first, then
        by waiting time. ``audited=False`` is for the console's live queue, which writes
        nothing (the page it updates was audited when it was opened; it shows no citizen
        text)."""
        query = (
            select(Case, Conversation.unreachable)
            .join(Conversation, Case.conversation_id == Conversation.id, isouter=True)
            .where(Case.status.in_(OPEN_STATUSES))
            .order_by(sql_case((Case.urgent, 0), else_=1), Case.created_at)
        )
        if area != ALL_AREAS:
            query = query.where(Case.area == area)
        with self.sessions.begin() as session:
            rows = session.execute(query).all()
            if audited:
                audit(session, now, staff_id, "list_queue", detail=f"{len(rows)} cases")
            return [_item(case, bool(unreachable), now) for case, unreachable in rows]

    def claim(self, reference: str, staff_id: str, now: datetime) -> bool:
        """Take an open case: one atomic UPDATE, so of two staff claiming at once one wins."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(Case)
                .where(Case.reference == reference, Case.status == CaseStatus.OPEN)
                .values(status=CaseStatus.CLAIMED, claimed_by=staff_id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            won = bool(result.rowcount == 1)  # type: ignore[attr-defined]
            audit(session, now, staff_id, "claim" if won else "claim_lost", reference)
        return won

    def require_area(self, reference: str, staff_id: str, area: str, now: datetime) -> None:
        """The case must be of ``area`` (``all``: any). Otherwise AreaRefused, and the
        refusal is audited in a transaction of its own (who, which case, never its content).
        A case that does not exist passes: the caller says "no case"."""
        with self.sessions.begin() as session:
            found = case_area(session, reference)
            if found is None or area in (ALL_AREAS, found):
                return
            shown = reference if len(reference) <= MAX_REFERENCE else None
            audit(session, now, staff_id, "other_area", shown, f"area={area}")
        raise AreaRefused(f"{reference} is not a case of {area}")

    def areas_of(self, references: list[str]) -> dict[str, str]:
        """The area of each of these cases (those that exist)."""
        if not references:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(Case.reference, Case.area).where(Case.reference.in_(references))
            ).all()
        return {reference: area for reference, area in rows}

    def _require_invited(self, reference: str, staff_id: str, now: datetime) -> None:
        """For a service member: the case must be one they are invited to. Otherwise the
        same QueueError as for no case at all (its existence is not revealed); the refusal
        is audited in a transaction of its own."""
        with self.sessions.begin() as session:
            case = session.scalars(select(Case).where(Case.reference == reference)).first()
            if case is not None and is_invited(session, case.id, staff_id):
                return
            shown = reference if len(reference) <= MAX_REFERENCE else None
            audit(session, now, staff_id, "not_invited", shown)
        raise QueueError(f"no case {reference}")

    def view(
        self, reference: str, staff_id: str, now: datetime, *, invited_only: bool = False
    ) -> CaseView:
        """Read a case; changes nothing but the audit entry (who read which case). With
        ``invited_only`` (a service member) only a case they are invited to."""
        if invited_only:
            self._require_invited(reference, staff_id, now)
        with self.sessions.begin() as session:
            case = _case(session, reference)
            if invited_only and not is_invited(session, case.id, staff_id):
                raise QueueError(f"no case {reference}")
            unreachable = False
            messages: list[tuple[str, str, str]] = []
            conversation: tuple[CaseMessage, ...] = ()
            if case.conversation_id is not None:
                unreachable = session.get_one(Conversation, case.conversation_id).unreachable
                rows = session.scalars(  # not the los's copies to the people invited
                    select(Message)
                    .where(
                        Message.case_reference == reference,
                        or_(
                            Message.conversation_id == case.conversation_id,
                            Message.direction == Direction.IN,
                        ),
                    )
                    .order_by(Message.id)
                ).all()
                messages = [
                    (m.created_at.isoformat(timespec="minutes"), m.sender, mask_codes(m.text))
                    for m in rows
                ]
                conversation = _conversation(session, case, now)
            notes = tuple(
                Note(_aware(n.created_at, now), n.author, n.text)
                for n in session.scalars(
                    select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
                )
            )
            audit(
                session, now, staff_id, "read_case", reference, "invited" if invited_only else None
            )
            people = participants.on_case(session, case.id, now)
            if people and not invited_only:
                audit(session, now, staff_id, "read_participants", reference)
            return CaseView(
                _item(case, unreachable, now),
                case.about,
                case.age_band,
                case.contact,
                case.callback,
                description_lines(case.description),
                messages,
                conversation,
                notes,
                invitations(session, case.id, now),
                _consents(session, case, now),
                case_worries(case.description),
                rounds_of(session, case.id, now),
                case_strengths(case.description),
                tuple(attachments.in_case(session, case.id)),
                people,
            )

    def read_document(
        self,
        reference: str,
        attachment_id: int,
        staff_id: str,
        now: datetime,
        *,
        invited_only: bool = False,
    ) -> AttachmentFile:
        """A document of the case, for whoever may read the case (audited: who fetched
        which document of which case, never its content)."""
        if invited_only:
            self._require_invited(reference, staff_id, now)
        with self.sessions.begin() as session:
            case = _case(session, reference)
            if invited_only and not is_invited(session, case.id, staff_id):
                raise QueueError(f"no case {reference}")
            found = attachments.read(session, case.id, attachment_id)
            if found is None:
                raise QueueError(f"{reference}: no such document")
            audit(session, now, staff_id, "read_document", reference, f"document={found.id}")
            return found

    def add_note(
        self, reference: str, staff_id: str, text: str, now: datetime, *, invited_only: bool = False
    ) -> None:
        """Add a note to the case log (audited, without its text). Never to the citizen: no
        message, no outbox row. A case whose consent was withdrawn takes no notes. With
        ``invited_only`` (a service member) only on a case they are invited to."""
        if invited_only:
            self._require_invited(reference, staff_id, now)
        with self.sessions.begin() as session:
            case = _case(session, reference)
            if invited_only and not is_invited(session, case.id, staff_id):
                raise QueueError(f"no case {reference}")
            if case.status == CaseStatus.WITHDRAWN:
                raise QueueError(f"{reference}: consent was withdrawn; the case takes no notes")
            session.add(CaseNote(case_id=case.id, author=staff_id, text=text, created_at=now))
            audit(session, now, staff_id, "note", reference, "invited" if invited_only else None)

    def mark_read(
        self, reference: str, staff_id: str, receipt: Callable[[str], str], now: datetime
    ) -> bool:
        """The los who has the case read the citizen's messages: they are marked read and the
        citizen gets ``receipt(language)``. False (and nothing done) when the case is not
        theirs, has no conversation, or nothing was unread."""
        with self.sessions.begin() as session:
            case = _case(session, reference)
            if case.claimed_by != staff_id or case.conversation_id is None:
                return False
            unread = session.scalars(
                select(Message).where(
                    Message.case_reference == reference,
                    Message.sender == Sender.CITIZEN,
                    Message.read_at.is_(None),
                )
            ).all()
            if not unread and not case.citizen_unread:
                return False
            for message in unread:
                message.read_at = now
            case.citizen_unread = 0
            conversation = session.get_one(Conversation, case.conversation_id)
            _to_outbox(session, conversation, Sender.RECEIPT, receipt(conversation.language), now)
            return True

    def reply(self, reference: str, staff_id: str, text: str, now: datetime) -> None:
        """Record a los message to the citizen and put it in their outbox."""
        with self.sessions.begin() as session:
            case = _owned(session, reference, staff_id)
            if case.conversation_id is None:
                raise QueueError(f"{reference} has no conversation to reply to")
            conversation = session.get_one(Conversation, case.conversation_id)
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction=Direction.OUT,
                    sender=Sender.LOS,
                    text=text,
                    language=conversation.language,
                    created_at=now,
                    handled_at=now,
                    case_reference=reference,
                )
            )
            _to_outbox(session, conversation, Sender.LOS, text, now)
            participants.fan_out(session, case, text, now)  # the people the young person invited
            conversation.los_typing_until = None
            audit(session, now, staff_id, "reply", reference)

    def typing(self, reference: str, staff_id: str, until: datetime) -> None:
        """The los holding the case is writing to the citizen (until ``until``, unless she
        sends first). Not audited: it reveals nothing and records no text."""
        with self.sessions.begin() as session:
            case = _owned(session, reference, staff_id)
            if case.conversation_id is None:
                raise QueueError(f"{reference} has no conversation to write to")
            conversation = session.get_one(Conversation, case.conversation_id)
            conversation.los_typing_until = until

    def transfer(self, reference: str, staff_id: str, to_staff: str, now: datetime) -> None:
        """Hand a claimed case to a colleague, who is told."""
        with self.sessions.begin() as session:
            case = _owned(session, reference, staff_id)
            case.claimed_by = to_staff
            self.notices.raise_notice(session, now, NoticeKind.TRANSFERRED, reference, to=to_staff)
            audit(session, now, staff_id, "transfer", reference, detail=f"to {to_staff}")

    def close(self, reference: str, staff_id: str, outcome: str, now: datetime) -> None:
        """Close with an outcome; the conversation gets an event for the router (the one
        writer of conversation state), which asks the citizen for feedback."""
        with self.sessions.begin() as session:
            case = _owned(session, reference, staff_id)
            case.status, case.closed_at = CaseStatus.CLOSED, now
            case.outcome = outcome[:200]
            if case.conversation_id is not None:
                record_event(session, case.conversation_id, case_closed_event(reference), now)
            # the outcome's kind from the list, never the los's own words (the audit holds no text)
            kind = outcome.split(":", 1)[0].strip()
            detail = kind if kind in OUTCOME_KINDS else "own words"
            audit(session, now, staff_id, "close", reference, detail=detail)

    def escalate_due(self, normal: datetime, urgent: datetime, now: datetime) -> list[str]:
        """Escalate open, unclaimed cases created before ``normal`` (urgent ones: before
        ``urgent``), each once; returns their references."""
        escalated = []
        with self.sessions.begin() as session:
            due = session.scalars(
                select(Case)
                .where(
                    Case.status == CaseStatus.OPEN,
                    Case.escalated_at.is_(None),
                    or_(
                        Case.created_at <= normal,
                        and_(Case.urgent.is_(True), Case.created_at <= urgent),
                    ),
                )
                # a case another process is escalating now is its to escalate (PostgreSQL)
                .with_for_update(skip_locked=True)
            ).all()
            for case in due:
                case.escalated_at = now
                kind = NoticeKind.URGENT_ESCALATION if case.urgent else NoticeKind.ESCALATION
                self.notices.raise_notice(session, now, kind, case.reference)
                audit(session, now, "system", "escalate", case.reference)
                escalated.append(case.reference)
        return escalated
