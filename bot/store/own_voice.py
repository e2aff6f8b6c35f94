"""The child's own voice in the store: the rounds of questions a los sent on a case, and
which were answered. The answers' words are the citizen's messages (in the case, encrypted,
deleted with it); a round only says which message answered which question. These functions
run inside the caller's transaction (the router's step, the queue's view, retention)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from bot.store.models import Case, Message, OwnVoiceAnswerRecord, OwnVoiceRound
from flows.effects import OwnVoiceAnswer, OwnVoiceOutcome, OwnVoiceProgress

ENDED = (OwnVoiceOutcome.DONE, OwnVoiceOutcome.STOPPED, OwnVoiceOutcome.NOT_STARTED)


@dataclass(frozen=True)
class RoundAnswer:
    """One question of a round: the child's own words, skipped, or not reached yet."""

    position: int
    question: str
    text: str | None = None
    """The answer as written; None when skipped or not answered."""
    at: datetime | None = None
    skipped: bool = False
    message_id: int | None = None
    """The citizen's message that answered it."""


@dataclass(frozen=True)
class Round:
    """Questions sent before a meeting and what came back."""

    id: int
    title: str
    language: str
    sent_by: str
    sent_at: datetime
    meeting_at: datetime | None
    status: OwnVoiceOutcome
    answers: tuple[RoundAnswer, ...]

    @property
    def answered(self) -> int:
        """How many questions have words."""
        return sum(1 for a in self.answers if a.text is not None)


def questions_of(raw: str) -> tuple[str, ...]:
    """A stored JSON list of questions (nothing when unreadable)."""
    try:
        data = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(str(q) for q in data) if isinstance(data, list) else ()


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def rounds_of(session: Session, case_id: int, now: datetime) -> tuple[Round, ...]:
    """The case's rounds, oldest first, each question with its answer (if any)."""
    rounds = session.scalars(
        select(OwnVoiceRound).where(OwnVoiceRound.case_id == case_id).order_by(OwnVoiceRound.id)
    ).all()
    shown = []
    for r in rounds:
        rows = session.execute(
            select(OwnVoiceAnswerRecord, Message.text)
            .outerjoin(Message, Message.id == OwnVoiceAnswerRecord.message_id)
            .where(OwnVoiceAnswerRecord.round_id == r.id)
        ).all()
        given = {row.position: (row, text) for row, text in rows}
        answers = []
        for position, question in enumerate(questions_of(r.questions)):
            found = given.get(position)
            if found is None:
                answers.append(RoundAnswer(position, question))
                continue
            row, text = found
            skipped = row.message_id is None
            answers.append(
                RoundAnswer(
                    position,
                    question,
                    None if skipped else (text or ""),
                    _aware(row.answered_at, now),
                    skipped,
                    row.message_id,
                )
            )
        shown.append(
            Round(
                r.id,
                r.title,
                r.language,
                r.sent_by,
                _aware(r.sent_at, now),
                _aware(r.meeting_at, now) if r.meeting_at else None,
                OwnVoiceOutcome(r.status),
                tuple(answers),
            )
        )
    return tuple(shown)


def record_answer(
    session: Session, conversation_id: int, message_id: int, effect: OwnVoiceAnswer, now: datetime
) -> None:
    """The message answers (or skips) a question: it joins the case (the los reads it, one
    more unread) and the round notes which question it answered. A round of another
    conversation's case is left alone."""
    found = session.execute(
        select(OwnVoiceRound, Case)
        .join(Case, Case.id == OwnVoiceRound.case_id)
        .where(OwnVoiceRound.id == effect.request)
    ).first()
    if found is None or found[1].conversation_id != conversation_id:
        return
    case = found[1]
    message = session.get_one(Message, message_id)
    message.case_reference = case.reference
    if not effect.skipped:  # one more for the los to read, as a relayed message
        session.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(citizen_unread=Case.citizen_unread + 1)
            .execution_options(synchronize_session=False)
        )
    row = session.scalars(
        select(OwnVoiceAnswerRecord).where(
            OwnVoiceAnswerRecord.round_id == effect.request,
            OwnVoiceAnswerRecord.position == effect.position,
        )
    ).first()
    if row is None:
        row = OwnVoiceAnswerRecord(round_id=effect.request, position=effect.position)
        session.add(row)
    row.message_id = None if effect.skipped else message_id
    row.answered_at = now


def record_progress(
    session: Session, conversation_id: int, effect: OwnVoiceProgress, now: datetime
) -> None:
    """A round started, ended or could not start (only a round of this conversation's case)."""
    session.execute(
        update(OwnVoiceRound)
        .where(
            OwnVoiceRound.id == effect.request,
            OwnVoiceRound.case_id.in_(
                select(Case.id).where(Case.conversation_id == conversation_id)
            ),
        )
        .values(
            status=effect.outcome,
            ended_at=now if effect.outcome in ENDED else None,
        )
        .execution_options(synchronize_session=False)
    )


def delete_rounds(session: Session, cases: ColumnElement[bool]) -> None:
    """Delete the rounds (and their answer records) of the cases matching ``cases``: with the
    case, by retention, erasure or a withdrawn consent."""
    rounds = select(OwnVoiceRound.id).where(OwnVoiceRound.case_id.in_(select(Case.id).where(cases)))
    session.execute(
        delete(OwnVoiceAnswerRecord)
        .where(OwnVoiceAnswerRecord.round_id.in_(rounds))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(OwnVoiceRound)
        .where(OwnVoiceRound.case_id.in_(select(Case.id).where(cases)))
        .execution_options(synchronize_session=False)
    )


def answered_for(session: Session, case_ids: Sequence[int], now: datetime) -> list[Round]:
    """Every round of these cases (for the citizen's own copy of their data)."""
    return [r for case_id in case_ids for r in rounds_of(session, case_id, now)]
