"""Saved answers: replies a los inserts into the reply box and edits before sending, one list
per citizen language. A leader adds, changes and removes them; every change is audited (the
answer's id and language, never its text). The first start seeds a default set from the
catalogs. Methods are synchronous: ``async`` callers run them on a thread pool."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.audit import audit
from bot.store.models import AuditEntry, SavedAnswer

MAX_TITLE = 120
MAX_TEXT = 4000
SEEDED = "saved_answers_seeded"


@dataclass(frozen=True)
class Answer:
    """One saved answer as the console shows it."""

    id: int
    language: str
    title: str
    text: str
    updated_by: str
    updated_at: datetime


class SavedAnswers:
    """The saved answers in the database."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def seed(self, defaults: Iterable[tuple[str, str, str]]) -> int:
        """Add the (language, title, text) defaults once, at the first start: the audit log
        records it, so a leader who removed them all keeps an empty list."""
        with self.sessions.begin() as session:
            seeded = select(func.count()).select_from(AuditEntry)
            if session.scalar(seeded.where(AuditEntry.action == SEEDED)):
                return 0
            now, added = self.clock(), 0
            for language, title, text in defaults:
                session.add(
                    SavedAnswer(
                        language=language,
                        title=title[:MAX_TITLE],
                        text=text[:MAX_TEXT],
                        updated_by="system",
                        updated_at=now,
                    )
                )
                added += 1
            audit(session, now, "system", SEEDED, detail=str(added))
            return added

    def listed(self, language: str | None = None) -> list[Answer]:
        """All saved answers (or one language's), by language and title."""
        query = select(SavedAnswer).order_by(SavedAnswer.language, SavedAnswer.title)
        if language is not None:
            query = query.where(SavedAnswer.language == language)
        with self.sessions() as session:
            return [_answer(row) for row in session.scalars(query)]

    def get(self, answer_id: int) -> Answer | None:
        """One saved answer, if it exists."""
        with self.sessions() as session:
            row = session.get(SavedAnswer, answer_id)
            return _answer(row) if row is not None else None

    def save(
        self, answer_id: int | None, language: str, title: str, text: str, by: str
    ) -> Answer | None:
        """Add (no id) or change a saved answer; None when the id names none."""
        now = self.clock()
        with self.sessions.begin() as session:
            if answer_id is None:
                row = SavedAnswer(language=language, updated_by=by, updated_at=now)
                session.add(row)
            else:
                found = session.get(SavedAnswer, answer_id)
                if found is None:
                    return None
                row = found
            row.language = language
            row.title = title[:MAX_TITLE]
            row.text = text[:MAX_TEXT]
            row.updated_by, row.updated_at = by, now
            session.flush()
            action = "saved_answer_added" if answer_id is None else "saved_answer_changed"
            audit(session, now, by, action, detail=f"{row.id} {language}")
            return _answer(row)

    def remove(self, answer_id: int, by: str) -> bool:
        """Remove a saved answer; whether there was one."""
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(SavedAnswer, answer_id)
            if row is None:
                return False
            session.delete(row)
            audit(session, now, by, "saved_answer_removed", detail=str(answer_id))
            return True


def _answer(row: SavedAnswer) -> Answer:
    return Answer(row.id, row.language, row.title, row.text, row.updated_by, row.updated_at)
