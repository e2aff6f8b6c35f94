"""Retention: delete what the configured periods say must go. It really deletes.

A closed case is kept at least as long as the consent it was given under promised ("Saken
slettes {days} dager etter at den er avsluttet": ``Consent.retention_days``, the configured
days at the time), and never less than the configured days now. Every run that deletes
something is audited with counts, never text; afterwards the database files are scrubbed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, and_, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.settings import Settings
from bot.store import attachments
from bot.store.audit import audit
from bot.store.callbacks import delete_old, release_for_cases
from bot.store.db import scrub
from bot.store.enums import CaseStatus
from bot.store.models import (
    Case,
    CaseInvitation,
    CaseNote,
    Consent,
    Conversation,
    Message,
    Outbox,
)
from bot.store.own_voice import delete_rounds
from bot.store.repo import aware
from bot.store.unplaced import expire_notes

log = logging.getLogger(__name__)
ENDED = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


@dataclass(frozen=True)
class RetentionReport:
    """How much was deleted (and how many closed cases a consent's promise kept)."""

    cases: int
    conversations: int
    consents_erased: int
    messages: int = 0
    kept_for_consent: int = 0
    unplaced: int = 0


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def run_retention(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> RetentionReport:
    """Delete closed cases past their period (the longer of closed_case_days and what their
    consent promised) with their notes and invitations, idle conversations past
    anonymous_conversation_days that hold no case any more (their messages with them; a
    conversation kept for a case loses its messages that are in no case), and consent
    records past consent_record_years, unplaced notes past unplaced_days, and callback slots
    (with the calls booked in them) past callbacks.keep_days."""
    now = clock()
    rules = settings.retention
    configured = rules.closed_case_days
    idle_limit = now - timedelta(days=rules.anonymous_conversation_days)
    consent_limit = now - timedelta(days=365 * rules.consent_record_years)
    with sessions.begin() as session:
        candidates = session.execute(
            select(Case.reference, Case.closed_at, func.max(Consent.retention_days))
            .outerjoin(Consent, Consent.case_reference == Case.reference)
            .where(Case.status.in_(ENDED), Case.closed_at < now - timedelta(days=configured))
            .group_by(Case.reference, Case.closed_at)
        ).all()
        expired: list[tuple[str, int]] = []
        for reference, closed_at, promised in candidates:
            days = max(configured, promised or configured)
            if aware(closed_at) < now - timedelta(days=days):
                expired.append((reference, days))
        kept = len(candidates) - len(expired)
        messages = 0
        references = [reference for reference, _ in expired]
        if references:
            messages += _count(
                session.execute(delete(Message).where(Message.case_reference.in_(references)))
            )
            session.execute(
                delete(CaseNote).where(
                    CaseNote.case_id.in_(select(Case.id).where(Case.reference.in_(references)))
                )
            )
            session.execute(
                delete(CaseInvitation).where(
                    CaseInvitation.case_id.in_(
                        select(Case.id).where(Case.reference.in_(references))
                    )
                )
            )
            delete_rounds(session, Case.reference.in_(references))
            release_for_cases(session, Case.reference.in_(references))
            attachments.delete_for_cases(
                session, select(Case.id).where(Case.reference.in_(references))
            )
            session.execute(delete(Case).where(Case.reference.in_(references)))
            for reference, days in expired:
                audit(session, now, "system", "retention_delete", reference, f"days={days}")

        # A conversation goes when it is idle and no case of it is left: what is left is open,
        # or closed and still within its period.
        with_case = select(Case.conversation_id).where(Case.conversation_id.is_not(None))
        idle = session.scalars(
            select(Conversation.id).where(
                and_(Conversation.updated_at < idle_limit, Conversation.id.not_in(with_case))
            )
        ).all()
        if idle:
            session.execute(
                update(Consent)
                .where(Consent.conversation_id.in_(idle))
                .values(conversation_id=None, erased_at=now)
            )
            session.execute(delete(Outbox).where(Outbox.conversation_id.in_(idle)))
            messages += _count(
                session.execute(delete(Message).where(Message.conversation_id.in_(idle)))
            )
            session.execute(delete(Conversation).where(Conversation.id.in_(idle)))
        # An idle conversation kept for its closed case keeps only the case's words.
        kept_for_case = select(Conversation.id).where(
            Conversation.updated_at < idle_limit,
            Conversation.id.in_(
                select(Case.conversation_id).where(
                    Case.status.in_(ENDED), Case.conversation_id.is_not(None)
                )
            ),
            Conversation.id.not_in(
                select(Case.conversation_id).where(
                    Case.status.not_in(ENDED), Case.conversation_id.is_not(None)
                )
            ),
        )
        messages += _count(
            session.execute(
                delete(Message).where(
                    Message.conversation_id.in_(kept_for_case),
                    Message.case_reference.is_(None),
                    Message.created_at < idle_limit,
                )
            )
        )
        session.execute(
            delete(Outbox).where(
                Outbox.conversation_id.in_(kept_for_case), Outbox.created_at < idle_limit
            )
        )
        erased = _count(session.execute(delete(Consent).where(Consent.given_at < consent_limit)))
        today = now.astimezone(ZoneInfo(settings.municipality.timezone)).date()
        unplaced = expire_notes(session, today, rules.unplaced_days)
        delete_old(session, now - timedelta(days=settings.callbacks.keep_days))  # old slots
        report = RetentionReport(len(references), len(idle), erased, messages, kept, unplaced)
        deleted = (
            report.cases + report.conversations + report.consents_erased + messages + unplaced
        )
        if deleted:
            audit(
                session,
                now,
                "system",
                "retention",
                detail=(
                    f"cases={report.cases} conversations={report.conversations} "
                    f"messages={messages} consents={erased} kept_for_consent={kept} "
                    f"unplaced={unplaced}"
                ),
            )
    if deleted:
        scrub(sessions)
    log.info(
        "retention: cases=%d conversations=%d messages=%d consents=%d kept_for_consent=%d "
        "unplaced=%d",
        report.cases,
        report.conversations,
        messages,
        erased,
        kept,
        unplaced,
    )
    return report
