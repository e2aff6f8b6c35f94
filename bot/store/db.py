"""Engine creation (SQLite in WAL mode with durable commits, or PostgreSQL), migrations, and
scrubbing deleted data out of SQLite's files."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.crypto import KeyRing, install_keyring

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
StoreEngine: TypeAlias = Engine
"""A database as ``make_engine`` opens it; outside ``bot/store`` it is only handed on."""
Transaction: TypeAlias = Session
"""An open store transaction. Code outside ``bot/store`` only hands it on to store
functions (the router's step, the flow effects): it never queries with it."""


ENGINE_LOGGER = "sqlalchemy.engine.Engine"
"""SQLAlchemy's engine logger (every engine without a ``logging_name`` logs to it)."""


class HideRowValues(logging.Filter):
    """At DEBUG SQLAlchemy logs every fetched row as the application sees it, decrypted;
    ``hide_parameters`` does not cover rows. This keeps the line, without the values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Row %r":
            record.msg, record.args = "Row [values hidden]", ()
        return True


def hide_row_values() -> None:
    """Install ``HideRowValues`` on SQLAlchemy's engine logger (once per process)."""
    logger = logging.getLogger(ENGINE_LOGGER)
    if not any(isinstance(f, HideRowValues) for f in logger.filters):
        logger.addFilter(HideRowValues())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros
    cursor.close()


PING_AFTER_IDLE_S = 2.0
"""A pooled connection to a database server that lay idle this long is pinged before use."""
_LAST_USED = "inngang_last_used"


def ping_when_idle(
    engine: Engine, idle_s: float = PING_AFTER_IDLE_S, clock: Callable[[], float] = time.monotonic
) -> None:
    """Before a pooled connection is used, ask the server whether it is still there, as
    ``pool_pre_ping`` does, but only when the connection lay idle ``idle_s`` or longer (a
    restarted server, a firewall that dropped it): one in use a moment ago is taken as it
    is. Under load that is a round trip saved in each of a message's transactions. A dead
    connection found here is replaced, with every other pooled one; one that dies within
    the window fails its statement, the pool is invalidated as after any disconnect, and
    the store's callers retry (recording, the router's attempts)."""

    def connected(_dbapi: Any, record: Any) -> None:
        record.info[_LAST_USED] = clock()  # fresh: nothing to ask

    def checked_in(_dbapi: Any, record: Any) -> None:
        record.info[_LAST_USED] = clock()

    def checked_out(dbapi: Any, record: Any, _proxy: Any) -> None:
        if clock() - record.info.get(_LAST_USED, float("-inf")) < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi, None):
                raise InvalidatePoolError() from error
            raise

    event.listen(engine, "connect", connected)
    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def make_engine(url: str, keyring: KeyRing | None = None) -> Engine:
    """An engine for the URL; SQLite gets WAL, synchronous=FULL, foreign keys, busy timeout
    and secure_delete; a server's pooled connections are pinged when they lay idle
    (``ping_when_idle``). Bound parameters never appear in logs or exception messages
    (``hide_parameters``), nor do fetched rows (``HideRowValues``). ``keyring`` encrypts and
    decrypts the encrypted columns; without one, reading or writing them raises."""
    if url.startswith("sqlite:///"):
        _private_file(Path(url[len("sqlite:///") :]))
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        engine = create_engine(url, hide_parameters=True, pool_use_lifo=True)
        ping_when_idle(engine)
    if keyring is not None:
        install_keyring(engine, keyring)
    hide_row_values()
    return engine


def _private_file(path: Path) -> None:
    """The SQLite file readable by its owner only, like the key files (its WAL and shared
    memory files take the same mode). An in-memory database has no file."""
    if str(path) in ("", ":memory:"):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    """The engine a sessionmaker is bound to."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the sessionmaker is not bound to an engine")
    return bind


def scrub(bind: Engine | sessionmaker[Session]) -> bool:
    """After a deletion: make the deleted rows unrecoverable from the database files.

    SQLite keeps earlier versions of every changed page in the ``-wal`` file until a
    checkpoint; ``secure_delete`` zeroes deleted rows in the pages themselves. This runs
    ``PRAGMA wal_checkpoint(TRUNCATE)``: the pages are copied into the database and the WAL
    is cut to nothing. Returns False when a reader kept it from completing (the WAL is then
    cut at the next scrub). On PostgreSQL it does nothing (dead rows go at VACUUM; what they
    held is ciphertext). Call it after the transaction that deleted has committed.
    """
    engine = bind if isinstance(bind, Engine) else engine_of(bind)
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        busy, _log, _checkpointed = connection.exec_driver_sql(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).one()
    return int(busy) == 0


def statement_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions whose reads run each statement on its own (autocommit): no BEGIN and
    ROLLBACK round trips around a read on a database server, and on PostgreSQL no ROLLBACK,
    after which psycopg forgets every statement it prepared on that connection (the hot
    statements would then run unprepared, parsed and planned each time). For reads that
    need no snapshot across statements."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        return sessions
    return sessionmaker(bind.execution_options(isolation_level="AUTOCOMMIT"))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to this engine (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")
