"""Question sets before a meeting ("Før møtet"): a leader keeps them per citizen language
(add, change, remove; audited by id and language, never the text); the first start seeds a
default set in every language from the catalogs. The los who holds a case sends one: the
set's texts are copied into a round on the case and an event tells the conversation, whose
router asks the questions. Methods are synchronous: ``async`` callers use a thread pool."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.audit import audit
from bot.store.enums import CaseStatus
from bot.store.models import AuditEntry, Case, OwnVoiceRound, OwnVoiceSet
from bot.store.own_voice import questions_of
from bot.store.queue_repo import QueueError
from bot.store.repo import record_event
from flows.effects import OwnVoiceOutcome
from flows.own_voice import Questions, event_for

MAX_TITLE = 120
MAX_TEXT = 1000
"""The longest intro, question or thanks (characters)."""
MAX_QUESTIONS = 10
SEEDED = "own_voice_sets_seeded"


@dataclass(frozen=True)
class QuestionSet:
    """One set as the console shows it."""

    id: int
    language: str
    title: str
    intro: str
    questions: tuple[str, ...]
    thanks: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class SetText:
    """What a leader writes: the set's texts in one language."""

    language: str
    title: str
    intro: str
    questions: tuple[str, ...]
    thanks: str


def _shown(row: OwnVoiceSet) -> QuestionSet:
    return QuestionSet(
        row.id,
        row.language,
        row.title,
        row.intro,
        questions_of(row.questions),
        row.thanks,
        row.updated_by,
        row.updated_at,
    )


def _write(row: OwnVoiceSet, text: SetText, by: str, now: datetime) -> None:
    row.language = text.language
    row.title = text.title[:MAX_TITLE]
    row.intro = text.intro[:MAX_TEXT]
    row.questions = json.dumps(
        [q[:MAX_TEXT] for q in text.questions[:MAX_QUESTIONS]], ensure_ascii=False
    )
    row.thanks = text.thanks[:MAX_TEXT]
    row.updated_by, row.updated_at = by, now


class QuestionSets:
    """The question sets in the database, and sending one on a case."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def seed(self, defaults: Iterable[SetText]) -> int:
        """Add the defaults once, at the first start (a leader who removed them keeps that)."""
        with self.sessions.begin() as session:
            seeded = select(func.count()).select_from(AuditEntry)
            if session.scalar(seeded.where(AuditEntry.action == SEEDED)):
                return 0
            now, added = self.clock(), 0
            for text in defaults:
                row = OwnVoiceSet()
                _write(row, text, "system", now)
                session.add(row)
                added += 1
            audit(session, now, "system", SEEDED, detail=str(added))
            return added

    def listed(self, language: str | None = None) -> list[QuestionSet]:
        """Every set (or one language's), by language and title."""
        query = select(OwnVoiceSet).order_by(OwnVoiceSet.language, OwnVoiceSet.title)
        if language is not None:
            query = query.where(OwnVoiceSet.language == language)
        with self.sessions() as session:
            return [_shown(row) for row in session.scalars(query)]

    def save(self, set_id: int | None, text: SetText, by: str) -> QuestionSet | None:
        """Add (no id) or change a set; None when the id names none. Audited by id."""
        now = self.clock()
        with self.sessions.begin() as session:
            if set_id is None:
                row = OwnVoiceSet()
                session.add(row)
            else:
                found = session.get(OwnVoiceSet, set_id)
                if found is None:
                    return None
                row = found
            _write(row, text, by, now)
            session.flush()
            action = "question_set_added" if set_id is None else "question_set_changed"
            audit(session, now, by, action, detail=f"{row.id} {text.language}")
            return _shown(row)

    def remove(self, set_id: int, by: str) -> bool:
        """Remove a set; whether there was one."""
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(OwnVoiceSet, set_id)
            if row is None:
                return False
            session.delete(row)
            audit(session, now, by, "question_set_removed", detail=str(set_id))
            return True

    def send(self, reference: str, staff_id: str, set_id: int, meeting_at: datetime | None) -> int:
        """Send a set to the citizen of a case the staff member holds: a round on the case
        with the set's texts, and an event for the conversation (its router asks). Audited
        (the set's id, never text). QueueError when the case is not hers, has no
        conversation, or the set is unknown or in another language than the case's."""
        now = self.clock()
        with self.sessions.begin() as session:
            case = session.scalars(select(Case).where(Case.reference == reference)).first()
            if case is None:
                raise QueueError(f"no case {reference}")
            if case.status != CaseStatus.CLAIMED or case.claimed_by != staff_id:
                raise QueueError(f"{reference} is not claimed by {staff_id}; claim it first")
            if case.conversation_id is None:
                raise QueueError(f"{reference} has no conversation to send to")
            chosen = session.get(OwnVoiceSet, set_id)
            if chosen is None or chosen.language != case.language:
                raise QueueError(f"no question set {set_id} in {case.language}")
            questions = questions_of(chosen.questions)
            if not questions:
                raise QueueError(f"question set {set_id} has no questions")
            sent = OwnVoiceRound(
                case_id=case.id,
                language=chosen.language,
                title=chosen.title,
                questions=chosen.questions,
                sent_by=staff_id,
                sent_at=now,
                meeting_at=meeting_at,
                status=OwnVoiceOutcome.SENT,
            )
            session.add(sent)
            session.flush()
            event = Questions(
                sent.id, reference, chosen.intro, questions, chosen.thanks, meeting_at
            )
            record_event(session, case.conversation_id, event_for(sent.id), now, event.to_json())
            audit(session, now, staff_id, "own_voice_sent", reference, detail=f"set {set_id}")
            return sent.id
