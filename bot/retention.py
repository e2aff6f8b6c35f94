"""Retention: delete what the configured periods say must go. It really deletes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.effects import audit
from bot.settings import Settings
from bot.store.models import Case, Consent, Conversation, Message, Outbox


@dataclass(frozen=True)
class RetentionReport:
    """How much was deleted."""

    cases: int
    conversations: int
    consents_erased: int


def run_retention(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> RetentionReport:
    """Delete closed cases past closed_case_days, idle conversations without an open case past
    anonymous_conversation_days (their messages with them), and consent records past
    consent_record_years."""
    now = clock()
    rules = settings.retention
    case_limit = now - timedelta(days=rules.closed_case_days)
    idle_limit = now - timedelta(days=rules.anonymous_conversation_days)
    consent_limit = now - timedelta(days=365 * rules.consent_record_years)
    with sessions.begin() as session:
        old_cases = session.scalars(
            select(Case.reference).where(
                Case.status.in_(("closed", "withdrawn")), Case.closed_at < case_limit
            )
        ).all()
        if old_cases:
            session.execute(delete(Message).where(Message.case_reference.in_(old_cases)))
            session.execute(delete(Case).where(Case.reference.in_(old_cases)))
            for reference in old_cases:
                audit(session, now, "system", "retention_delete", reference)
        active = select(Case.conversation_id).where(
            Case.status.in_(("open", "claimed")), Case.conversation_id.is_not(None)
        )
        idle = session.scalars(
            select(Conversation.id).where(
                and_(Conversation.updated_at < idle_limit, Conversation.id.not_in(active))
            )
        ).all()
        if idle:
            session.execute(
                update(Consent)
                .where(Consent.conversation_id.in_(idle))
                .values(conversation_id=None, erased_at=now)
            )
            session.execute(delete(Outbox).where(Outbox.conversation_id.in_(idle)))
            session.execute(delete(Message).where(Message.conversation_id.in_(idle)))
            session.execute(delete(Case).where(Case.conversation_id.in_(idle)))
            session.execute(delete(Conversation).where(Conversation.id.in_(idle)))
        erased = session.execute(delete(Consent).where(Consent.given_at < consent_limit))
        return RetentionReport(len(old_cases), len(idle), erased.rowcount)  # type: ignore[attr-defined]
