"""What the leaders' figures are counted from: aggregates only, no text, no identities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from bot.settings import ALL_AREAS
from bot.store.enums import CaseStatus, Direction, Sender
from bot.store.models import Case, Conversation, Message
from bot.store.repo import aware


@dataclass(frozen=True)
class CaseFacts:
    """One case's countable facts (times in UTC)."""

    channel: str
    language: str
    topic: str | None
    status: CaseStatus
    anonymous: bool
    urgent: bool
    returning: bool
    escalated: bool
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    feedback_score: int | None
    first_reply_at: datetime | None = None
    """When a los first wrote to the family in this case."""


@dataclass(frozen=True)
class ContactFacts:
    """One conversation's countable facts: a contact at the door (times in UTC). Its topic
    is its first case's, else the first topic the bot recognised in the citizen's words."""

    channel: str
    language: str
    topic: str | None
    started_at: datetime
    handed_over: bool


@dataclass(frozen=True)
class MonthFacts:
    """The contacts started and the cases opened from ``since`` up to ``until``."""

    since: datetime
    until: datetime
    contacts: tuple[ContactFacts, ...]
    cases: tuple[CaseFacts, ...]


@dataclass(frozen=True)
class PeriodFacts:
    """What happened since ``since``: conversations started, the citizens' messages (their
    topic and whether they raised a crisis), and the cases opened."""

    since: datetime
    conversations_started: int
    inbound: tuple[tuple[str | None, bool], ...]
    cases: tuple[CaseFacts, ...]


def _maybe_aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


def _in_area(area: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Conditions on conversations and cases: of ``area`` (``all``: no condition)."""
    if area == ALL_AREAS:
        return true(), true()
    return Conversation.area == area, Case.area == area


def period_facts(session: Session, since: datetime, area: str = ALL_AREAS) -> PeriodFacts:
    """The facts of the period from ``since`` up to now (of one area, or all together)."""
    of_conversation, of_case = _in_area(area)
    started = session.scalar(
        select(func.count(Conversation.id)).where(Conversation.created_at >= since, of_conversation)
    )
    inbound = session.execute(
        select(Message.topic, Message.crisis)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == Direction.IN, Message.created_at >= since, of_conversation)
    ).all()
    cases = session.scalars(select(Case).where(Case.created_at >= since, of_case)).all()
    return PeriodFacts(
        since,
        int(started or 0),
        tuple((topic, bool(crisis)) for topic, crisis in inbound),
        _case_facts(session, cases),
    )


def month_facts(
    session: Session, since: datetime, until: datetime, area: str = ALL_AREAS
) -> MonthFacts:
    """The facts of the contacts started and the cases opened in ``[since, until)`` (of one
    area, or all together)."""
    of_conversation, of_case = _in_area(area)
    started = (Conversation.created_at >= since) & (Conversation.created_at < until)
    started = started & of_conversation
    ids = select(Conversation.id).where(started)
    first_topic_ids = (
        select(func.min(Message.id))
        .where(
            Message.conversation_id.in_(ids),
            Message.direction == Direction.IN,
            Message.topic.is_not(None),
        )
        .group_by(Message.conversation_id)
    )
    first_topic: dict[int, str | None] = {
        conversation_id: topic
        for conversation_id, topic in session.execute(
            select(Message.conversation_id, Message.topic).where(Message.id.in_(first_topic_ids))
        )
    }
    case_topic: dict[int | None, str | None] = {}
    for conversation_id, topic in session.execute(
        select(Case.conversation_id, Case.topic)
        .where(Case.conversation_id.in_(ids))
        .order_by(Case.created_at.desc())
    ):
        case_topic[conversation_id] = topic  # the earliest case's comes last and stays
    conversations = session.execute(
        select(
            Conversation.id, Conversation.channel, Conversation.language, Conversation.created_at
        ).where(started)
    ).all()
    cases = session.scalars(
        select(Case).where(Case.created_at >= since, Case.created_at < until, of_case)
    ).all()
    return MonthFacts(
        aware(since),
        aware(until),
        tuple(
            ContactFacts(
                row.channel,
                row.language,
                case_topic.get(row.id) or first_topic.get(row.id),
                aware(row.created_at),
                row.id in case_topic,
            )
            for row in conversations
        ),
        _case_facts(session, cases),
    )


def _case_facts(session: Session, cases: Sequence[Case]) -> tuple[CaseFacts, ...]:
    references = [c.reference for c in cases]
    first_reply: dict[str, datetime] = {}
    if references:
        first_reply = {
            reference: aware(at)
            for reference, at in session.execute(
                select(Message.case_reference, func.min(Message.created_at))
                .where(Message.case_reference.in_(references), Message.sender == Sender.LOS)
                .group_by(Message.case_reference)
            )
            if reference is not None and at is not None
        }
    return tuple(
        CaseFacts(
            c.channel,
            c.language,
            c.topic,
            CaseStatus(c.status),
            c.anonymous,
            c.urgent,
            c.previous_reference is not None,
            c.escalated_at is not None,
            aware(c.created_at),
            _maybe_aware(c.claimed_at),
            _maybe_aware(c.closed_at),
            c.feedback_score,
            first_reply.get(c.reference),
        )
        for c in cases
    )
