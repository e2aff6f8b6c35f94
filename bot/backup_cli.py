"""`inngang backup <file>` and `inngang restore <file> --yes`: the SQLite database, copied
while the service runs and put back while it is stopped (bot/store/backup.py). PostgreSQL
has its own tools, pg_dump and pg_restore (docs/operating.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.clock import system_clock
from bot.settings import Settings
from bot.store.backup import BackupError, Copied, backup_sqlite, check_backup, restore_sqlite

POSTGRES_BACKUP = (
    "the database is PostgreSQL: back it up with pg_dump --format=custom and restore it with "
    "pg_restore (docs/operating.md)"
)


def add_parsers(sub: Any) -> None:
    """The ``backup`` and ``restore`` subcommands."""
    backup = sub.add_parser(
        "backup", help="copy the SQLite database to a new file, safe while the service runs"
    )
    backup.add_argument("path", type=Path, help="the backup file to write (must not exist)")
    restore = sub.add_parser(
        "restore", help="put a backup in the place of the SQLite database (service stopped)"
    )
    restore.add_argument("path", type=Path, help="the backup file")
    restore.add_argument(
        "--yes",
        action="store_true",
        help="the service is stopped: replace the database (its current file is kept)",
    )


def _said(copied: Copied) -> str:
    return (
        f"{copied.path} ({copied.size / 1_000_000:.1f} MB, schema {copied.revision}, "
        f"{copied.cases} case(s))"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Carry out ``backup`` or ``restore``."""
    database = settings.sqlite_path
    if database is None:
        print(f"error: {POSTGRES_BACKUP}", file=sys.stderr)
        return 2
    try:
        if args.command == "backup":
            print(f"Backup written: {_said(backup_sqlite(database, args.path))}")
            return 0
        backup = check_backup(args.path)
        if not args.yes:
            print(
                f"Would replace {database} with {_said(backup)}. Stop the service first, "
                "then run again with --yes.",
                file=sys.stderr,
            )
            return 1
        kept = restore_sqlite(args.path, database, system_clock())
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if kept is not None:
        print(f"The database as it was is kept in {kept}")
    print(
        f"Restored {database} from {_said(backup)}. It needs the data keys it was written "
        "with (var/data.key or INNGANG_DATA_KEY); `inngang run` migrates it to this version."
    )
    return 0
