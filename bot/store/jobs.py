"""Scheduled jobs run once per tick across every process that shares the database.

Each replica of ``inngang run`` ticks its housekeeping loop on its own. ``JobGate.run_due``
lets a job through only when no other process is running it (on PostgreSQL a transaction
advisory lock, taken without waiting: a replica that finds it held skips this tick) and when
its last run, recorded in ``job_runs``, is at least ``every`` ago. So two replicas ticking
every 30 s escalate once per tick, and retention runs once an hour, not once per replica.
SQLite serves one process: there the recorded last run alone decides.

``HeldLock`` is the other kind: a role one process holds for as long as it lives (Telegram
polling, which Telegram allows to one client at a time). On PostgreSQL a session advisory
lock on a connection kept open; PostgreSQL lets go of it when the process dies, and another
replica takes the role over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.store.models import JobRun
from bot.store.repo import aware

T = TypeVar("T")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job's name."""
    return int.from_bytes(
        hashlib.sha256(f"inngang job {name}".encode()).digest()[:8], "big", signed=True
    )


class JobGate:
    """Runs a named job only when it is due and no other process is running it."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def run_due(self, name: str, every: timedelta, job: Callable[[], T]) -> T | None:
        """``job()`` if its last run (by any process) ended ``every`` ago or more and no other
        process holds it now; None when skipped. The run is recorded when the job returns (a
        job that raises is tried again at the next tick)."""
        with self.sessions.begin() as session:
            if not _try_lock(session, lock_key(name)):
                return None
            last = session.scalars(select(JobRun).where(JobRun.name == name)).first()
            now = self.clock()
            if last is not None and now - aware(last.last_run_at) < every:
                return None
            result = job()  # in sessions of its own; this transaction holds the lock meanwhile
            done = self.clock()
            if last is None:
                session.add(JobRun(name=name, last_run_at=done))
            else:
                last.last_run_at = done
            return result

    def last_run(self, name: str) -> datetime | None:
        """When the job last ran (by any process), or None."""
        with self.sessions() as session:
            moment = session.scalars(select(JobRun.last_run_at).where(JobRun.name == name)).first()
            return None if moment is None else aware(moment)


def _try_lock(session: Session, key: int) -> bool:
    """A transaction advisory lock on PostgreSQL (released at commit or rollback), taken
    without waiting; elsewhere (SQLite: one process) always granted."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar()
    )


class HeldLock:
    """A role for one process at a time among those sharing the database."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._connection: Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        """Take the role if nobody holds it (without waiting); True when this process holds
        it. On SQLite (one process) always granted."""
        if self.held:
            return True
        if self.engine.dialect.name != "postgresql":
            self.held = True
            return True
        connection = self.engine.connect()
        taken = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}
        ).scalar()
        connection.commit()  # the lock belongs to the session, not to a transaction
        if not taken:
            connection.close()
            return False
        self._connection, self.held = connection, True
        return True

    def release(self) -> None:
        """Give the role up. (The connection goes back to the pool, so the lock is let go of
        first; if that fails, the connection is discarded, which lets go of it too.)"""
        connection, self._connection, self.held = self._connection, None, False
        if connection is None:
            return
        try:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)}
            )
            connection.commit()
        except Exception:  # the database went away: the lock went with the session
            connection.invalidate()
        connection.close()
