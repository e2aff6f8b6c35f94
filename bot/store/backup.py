"""Backups of the embedded SQLite database, taken while the service runs, and restoring one.

A backup is taken with SQLite's online backup API (``sqlite3.Connection.backup``): it reads
the database through SQLite itself, in one read transaction, so it is a consistent copy of
what was committed (the ``-wal`` file included) while the service goes on writing. A plain
file copy is not: it can catch a page half-written, or miss what is still in the WAL.

The copy is written beside its final name, checked (``PRAGMA integrity_check``), switched to
a single self-contained file (rollback journal, not WAL), made readable by its owner only
(0600) and only then given its name. Citizen text in it is still encrypted with the data keys
(var/data.key or INNGANG_DATA_KEY), which are not in the backup: keep them, apart from it.

PostgreSQL is backed up with ``pg_dump`` and restored with ``pg_restore`` (docs/operating.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000
Progress = Callable[[int, int, int], object]
"""sqlite3's backup progress callback: (status, pages remaining, pages in all)."""


class BackupError(Exception):
    """The backup or restore cannot be done as asked (the message says why)."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore wrote: the file, its size, its schema revision, its cases."""

    path: Path
    size: int
    revision: str | None
    cases: int


@contextlib.contextmanager
def _connection(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        yield connection
    finally:
        connection.close()


def _facts(connection: sqlite3.Connection, path: Path) -> Copied:
    """Check the database and say what it holds; BackupError when it is damaged or is not
    Inngang's."""
    try:
        status = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"{path}: the integrity check failed: {status}")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        cases = connection.execute("SELECT count(*) FROM cases").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: not an Inngang database ({error})") from None
    return Copied(path, path.stat().st_size, None if revision is None else revision[0], cases)


def _private_file(path: Path) -> None:
    """Create an empty file only its owner can read (SQLite takes an empty file as a new
    database)."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backup_sqlite(
    source: Path, target: Path, *, pages: int = -1, progress: Progress | None = None
) -> Copied:
    """Copy the live database ``source`` to the new file ``target``, safe while the service
    runs. ``pages`` per step (-1: all in one step, one read transaction; a write between
    steps makes SQLite start the copy again); ``progress`` is called after each step."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists already: give the backup a new name")
    if not target.parent.is_dir():
        raise BackupError(f"there is no directory {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    _private_file(partial)
    try:
        with _connection(source) as live, _connection(partial) as copy:
            live.backup(copy, pages=pages, progress=progress)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
            _facts(copy, partial)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        _sync_directory(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    with _connection(target) as done:
        return _facts(done, target)


def check_backup(path: Path) -> Copied:
    """What a backup holds, after checking it is a whole Inngang database."""
    if not path.is_file():
        raise BackupError(f"there is no backup at {path}")
    with _connection(path) as backup:
        return _facts(backup, path)


def restore_sqlite(backup: Path, target: Path, now: datetime) -> Path | None:
    """Put the backup in the place of the database ``target`` (the service must be stopped).
    The database there is first kept as ``<name>.before-restore-<UTC time>`` (returned; None
    when there was none). Both copies go through the backup API, so a ``-wal`` file beside
    ``target`` is taken into account rather than replayed over the restored data."""
    check_backup(backup)
    kept: Path | None = None
    if target.exists():
        kept = target.with_name(f"{target.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
        backup_sqlite(target, kept)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        _private_file(target)
    with _connection(backup) as source, _connection(target) as database:
        source.backup(database)
    with _connection(target) as restored:
        _facts(restored, target)
    return kept
