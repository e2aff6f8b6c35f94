"""What the leaders' figures are counted from: aggregates only, no text, no identities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.enums import CaseStatus, Direction
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


def period_facts(session: Session, since: datetime) -> PeriodFacts:
    """The facts of the period from ``since`` up to now."""
    started = session.scalar(
        select(func.count(Conversation.id)).where(Conversation.created_at >= since)
    )
    inbound = session.execute(
        select(Message.topic, Message.crisis).where(
            Message.direction == Direction.IN, Message.created_at >= since
        )
    ).all()
    cases = session.scalars(select(Case).where(Case.created_at >= since)).all()
    return PeriodFacts(
        since,
        int(started or 0),
        tuple((topic, bool(crisis)) for topic, crisis in inbound),
        tuple(
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
            )
            for c in cases
        ),
    )
