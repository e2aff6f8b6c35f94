"""Service content in the database: the changes staff made to the service texts, contact
details and opening hours over their defaults (the catalogs, config.yml).

Each change is a new row with what was in force before, who and when (the history); the
newest row per key is in force, and one without a value means the default again. Every
change moves the revision counter on in the same transaction, and is audited (the key,
never the text). Methods are synchronous: ``async`` callers use a thread pool."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.audit import audit
from bot.store.db import statement_sessions
from bot.store.models import ContentChange, ContentRevision

REVISION_ROW = 1
HISTORY_SHOWN = 50


@dataclass(frozen=True, order=True)
class ContentKey:
    """What one change is to: a service text (in a language and register), a contact
    detail of a service, or one weekday's opening hours."""

    kind: str
    """``text``, ``contact`` or ``hours``."""
    service: str = ""
    field: str = ""
    language: str = ""
    register: str = ""
    area: str = "default"
    """The area the change is for (``default``: the top level, the only one without areas)."""

    @property
    def detail(self) -> str:
        """The key as the audit log names it (never the text)."""
        parts = (self.kind, self.service, self.field, self.language, self.register)
        shown = " ".join(p for p in parts if p)
        return shown if self.area == "default" else f"{shown} area={self.area}"


@dataclass(frozen=True)
class Change:
    """One change as the history shows it."""

    id: int
    key: ContentKey
    value: str | None
    """None: back to the default."""
    previous: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class InForce:
    """The overrides in force and the revision they belong to."""

    revision: int
    values: Mapping[ContentKey, str]


def _key(row: ContentChange) -> ContentKey:
    return ContentKey(row.kind, row.service, row.field, row.language, row.register, row.area)


def _change(row: ContentChange) -> Change:
    return Change(row.id, _key(row), row.value, row.previous, row.changed_by, row.changed_at)


def _revision(session: Session) -> int:
    return (
        session.scalar(select(ContentRevision.value).where(ContentRevision.id == REVISION_ROW)) or 0
    )


def _latest(session: Session, key: ContentKey) -> str | None:
    query = (
        select(ContentChange.value)
        .where(
            ContentChange.kind == key.kind,
            ContentChange.service == key.service,
            ContentChange.field == key.field,
            ContentChange.language == key.language,
            ContentChange.register == key.register,
            ContentChange.area == key.area,
        )
        .order_by(ContentChange.id.desc())
        .limit(1)
    )
    return session.scalar(query)


class ContentStore:
    """The content changes and the revision counter."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock
        self._reads = statement_sessions(sessions)

    def revision(self) -> int:
        """The revision counter: it moves on with every change (one small read, every
        couple of seconds: on its own, ``statement_sessions``)."""
        with self._reads() as session:
            return _revision(session)

    def in_force(self) -> InForce:
        """Every override in force now, with its revision (read together, in a transaction
        that ends with COMMIT: after a ROLLBACK psycopg forgets its prepared statements)."""
        with self.sessions.begin() as session:
            revision = _revision(session)
            values: dict[ContentKey, str] = {}
            for row in session.scalars(select(ContentChange).order_by(ContentChange.id)):
                if row.value is None:
                    values.pop(_key(row), None)
                else:
                    values[_key(row)] = row.value
            return InForce(revision, values)

    def save(
        self, changes: Mapping[ContentKey, str | None], by: str, action: str = "content_changed"
    ) -> int:
        """Put these values in force (None: the default again), each a row of the history;
        a key whose value is already in force is left alone. Returns the revision."""
        now = self.clock()
        with self.sessions.begin() as session:
            session.execute(  # first: concurrent saves wait here for each other
                update(ContentRevision)
                .where(ContentRevision.id == REVISION_ROW)
                .values(value=ContentRevision.value + 1)
            )
            for key, value in sorted(changes.items()):
                previous = _latest(session, key)
                if previous == value:
                    continue
                session.add(
                    ContentChange(
                        kind=key.kind,
                        service=key.service,
                        field=key.field,
                        language=key.language,
                        register=key.register,
                        area=key.area,
                        value=value,
                        previous=previous,
                        changed_by=by,
                        changed_at=now,
                    )
                )
                audit(session, now, by, action, detail=key.detail)
            return _revision(session)

    def history(
        self, service: str | None = None, limit: int = HISTORY_SHOWN, area: str | None = None
    ) -> list[Change]:
        """The newest changes first (one service's and the opening hours', when given; one
        area's, when given)."""
        query = select(ContentChange).order_by(ContentChange.id.desc()).limit(limit)
        if service is not None:
            query = query.where(ContentChange.service.in_((service, "")))
        if area is not None:
            query = query.where(ContentChange.area == area)
        with self.sessions() as session:
            return [_change(row) for row in session.scalars(query)]

    def change(self, change_id: int) -> Change | None:
        """One change of the history, or None."""
        with self.sessions() as session:
            row = session.get(ContentChange, change_id)
            return _change(row) if row is not None else None

    def revert(self, change_id: int, by: str) -> Change | None:
        """Put back what was in force before this change (a new change); None when there is
        no such change."""
        change = self.change(change_id)
        if change is None:
            return None
        self.save({change.key: change.previous}, by, action="content_reverted")
        return change
