"""Unplaced notes: messages the bot could not place, masked and unlinked, for the content
editors (``flows.unplaced``). Written inside the router's step transaction; read by the
console page (audited) and ``inngang nlu suggest``; deleted by retention. Methods of
``UnplacedNotes`` are synchronous: ``async`` callers run them on a thread pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import ALL_AREAS
from bot.store.audit import audit
from bot.store.models import UnplacedNote
from flows.effects import NoteUnplaced, UnplacedChosen, UnplacedReason

TOKEN_DAYS = 1
"""A note's choice token is cleared after this many days even if no choice came."""
MAX_LISTED = 500
"""The newest notes a page or a suggestion file reads (grouping is done on each read)."""


@dataclass(frozen=True)
class Unplaced:
    """One note as the editors read it."""

    day: date
    language: str
    reason: UnplacedReason
    guessed: str | None
    confidence: float
    chosen: str | None
    text: str


def add_note(session: Session, effect: NoteUnplaced, area: str = "default") -> None:
    """Store a note (of the conversation's area), in the step's transaction."""
    session.add(
        UnplacedNote(
            day=effect.day,
            language=effect.language,
            reason=effect.reason,
            guessed=effect.guessed,
            confidence=effect.confidence,
            text=effect.text,
            choice_token=effect.token,
            area=area,
        )
    )


def add_choice(session: Session, effect: UnplacedChosen) -> None:
    """Add the citizen's choice to the note with this token, and forget the token."""
    session.execute(
        update(UnplacedNote)
        .where(UnplacedNote.choice_token == effect.token)
        .values(chosen=effect.chosen[:32], choice_token=None)
    )


def expire_notes(session: Session, today: date, keep_days: int) -> int:
    """Delete notes older than ``keep_days`` and clear stale choice tokens; how many went."""
    session.execute(
        update(UnplacedNote)
        .where(
            UnplacedNote.day < today - timedelta(days=TOKEN_DAYS),
            UnplacedNote.choice_token.is_not(None),
        )
        .values(choice_token=None)
    )
    gone = session.execute(
        delete(UnplacedNote).where(UnplacedNote.day < today - timedelta(days=keep_days))
    )
    return int(cast(CursorResult[Any], gone).rowcount or 0)


class UnplacedNotes:
    """The notes in the database, as the editors read them."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def listed(
        self, viewer: str | None = None, limit: int = MAX_LISTED, area: str = ALL_AREAS
    ) -> list[Unplaced]:
        """The newest notes (of ``area``; ``all``: every area's), newest first; a staff
        ``viewer``'s reading is audited (counts, never text)."""
        query = select(UnplacedNote).order_by(UnplacedNote.id.desc()).limit(limit)
        if area != ALL_AREAS:
            query = query.where(UnplacedNote.area == area)
        with self.sessions.begin() as session:
            rows = session.scalars(query).all()
            notes = [
                Unplaced(
                    r.day,
                    r.language,
                    UnplacedReason(r.reason),
                    r.guessed,
                    r.confidence,
                    r.chosen,
                    r.text,
                )
                for r in rows
            ]
            if viewer is not None:
                audit(session, self.clock(), viewer, "view_unplaced", detail=f"notes={len(notes)}")
        return notes

    def count_since(self, since: date) -> int:
        """How many notes were taken on or after ``since``."""
        with self.sessions.begin() as session:
            counted = session.scalar(
                select(func.count(UnplacedNote.id)).where(UnplacedNote.day >= since)
            )
        return int(counted or 0)
