"""Made-up contacts and cases for the shipped example configuration, so that a new user sees
the leaders' figures with something in them. Only ever written into a database of the example
data (the caller checks ``example_data``); every conversation's address is ``demo-<n>``, which
no real address (a keyed hash) can be. The rows are ordinary rows: retention deletes them like
any other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.identity import new_handle
from bot.store.enums import CaseStatus, Direction, Sender
from bot.store.models import Case, Conversation, Message

DEMO_ADDRESS = "demo-"


@dataclass(frozen=True)
class DemoCase:
    """A made-up case, closed: who took it, when, the first reply, the end and the feedback."""

    reference: str
    urgent: bool
    previous_reference: str | None
    los: str
    claimed_at: datetime
    first_reply_at: datetime
    closed_at: datetime
    outcome: str
    feedback: int | None


@dataclass(frozen=True)
class DemoContact:
    """A made-up conversation: its channel, language, topic, start and maybe a case."""

    channel: str
    language: str
    topic: str
    started_at: datetime
    case: DemoCase | None


def is_empty(sessions: sessionmaker[Session]) -> bool:
    """Whether no citizen has written yet: no conversation and no case."""
    with sessions() as session:
        conversations = session.scalar(select(func.count(Conversation.id))) or 0
        cases = session.scalar(select(func.count(Case.id))) or 0
        return conversations == 0 and cases == 0


def write_demo(sessions: sessionmaker[Session], contacts: list[DemoContact], text: str) -> int:
    """Write the made-up contacts (``text`` stands for every message's words); how many."""
    with sessions.begin() as session:
        first = session.scalar(
            select(func.count(Conversation.id)).where(
                Conversation.address_hash.startswith(DEMO_ADDRESS)
            )
        )
        for n, contact in enumerate(contacts, start=int(first or 0)):
            _write(session, contact, f"{DEMO_ADDRESS}{n}", text)
    return len(contacts)


def _write(session: Session, contact: DemoContact, address: str, text: str) -> None:
    case = contact.case
    last = contact.started_at
    if case is not None:
        last = case.closed_at
    conversation = Conversation(
        channel=contact.channel,
        address_hash=address,
        handle=new_handle(),
        language=contact.language,
        state_json="{}",
        created_at=contact.started_at,
        updated_at=last,
        version=0,
    )
    session.add(conversation)
    session.flush()
    reference = case.reference if case else None
    session.add(
        Message(
            conversation_id=conversation.id,
            direction=Direction.IN,
            sender=Sender.CITIZEN,
            text=text,
            language=contact.language,
            topic=contact.topic,
            created_at=contact.started_at,
            handled_at=contact.started_at,
            case_reference=reference,
            read_at=None if case is None else case.claimed_at,
        )
    )
    if case is None:
        return
    session.add(
        Case(
            reference=case.reference,
            conversation_id=conversation.id,
            channel=contact.channel,
            status=CaseStatus.CLOSED,
            urgent=case.urgent,
            anonymous=False,
            language=contact.language,
            topic=contact.topic,
            description="[]",
            created_at=contact.started_at,
            previous_reference=case.previous_reference,
            claimed_by=case.los,
            claimed_at=case.claimed_at,
            closed_at=case.closed_at,
            outcome=case.outcome,
            feedback_score=case.feedback,
            citizen_unread=0,
        )
    )
    session.add(
        Message(
            conversation_id=conversation.id,
            direction=Direction.OUT,
            sender=Sender.LOS,
            text=text,
            language=contact.language,
            created_at=case.first_reply_at,
            handled_at=case.first_reply_at,
            case_reference=case.reference,
        )
    )
