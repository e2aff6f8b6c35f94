"""Backups: `inngang backup` copies the SQLite database while the service writes, and the copy
restores to a database the store opens with every case readable; PostgreSQL's pg_dump and
pg_restore, as docs/operating.md gives them, make the same round trip."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from bot import cli
from bot.app import App, build_app
from bot.store.backup import BackupError, backup_sqlite, check_backup
from bot.store.db import make_engine
from tests.conftest import app_settings, fresh_postgres_url
from tests.fakes.clock import FakeClock
from tests.test_console import asks_anonymously

QUESTIONS = (
    "Jeg er 14 og vet ikke hvem jeg kan snakke med om at det er vanskelig hjemme",
    "Kan noen hjelpe meg med angsten før eksamen?",
)


async def two_cases(app: App) -> None:
    for number, question in enumerate(QUESTIONS):
        await asks_anonymously(app, f"browser-{number}", question)


def read_back(app: App) -> set[str]:
    """The citizens' words of every open case, read through the queue (decrypted)."""
    words = set()
    for item in app.queue.open_cases("kari"):
        words.update(app.queue.view(item.reference, "kari").description)
    return words


def restored_app(directory: Path, database: Path, original: Path, clock: FakeClock) -> App:
    """The application on a restored database, with the original's keys (secret.key and
    data.key beside it)."""
    settings = app_settings(directory, database_url=f"sqlite:///{database}")
    return build_app(settings, clock=clock, secret_file=original / "secret.key")


async def test_a_backup_taken_while_a_write_happens_restores_to_a_working_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = app_settings(tmp_path)
    app = build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")
    await two_cases(app)
    address = app.router.address("web", "browser-late")
    written: list[object] = []

    def write_meanwhile(_status: int, remaining: int, _total: int) -> None:
        if not written and remaining > 0:  # between two steps of the copy
            written.append(app.store.record_inbound("web", address, "hei igjen", None, "nb"))

    database = settings.sqlite_path
    assert database is not None
    target = tmp_path / "backups" / "inngang.db"
    target.parent.mkdir()
    copied = backup_sqlite(database, target, pages=1, progress=write_meanwhile)
    assert written, "the copy took one step: nothing was written during it"
    assert copied.cases == 2 and copied.revision is not None
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["inngang.db"]  # no -wal, no part

    restored = restored_app(tmp_path / "elsewhere", target, tmp_path, clock)
    assert read_back(restored) == read_back(app) >= set(QUESTIONS)
    late = restored.store.history("web", address, 10)
    assert [line.text for line in late] == ["hei igjen"]  # the write during the copy is in it
    await asks_anonymously(restored, "browser-new", "Hvor er helsestasjonen for ungdom?")
    assert len(restored.queue.open_cases("kari")) == 3  # it takes new work


async def test_backup_and_restore_on_the_command_line(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "inngang.db"
    monkeypatch.setenv("INNGANG_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("INNGANG_SECRET_KEY", "test-secret")
    monkeypatch.delenv("INNGANG_CONFIG", raising=False)
    app = build_app(app_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key")
    await two_cases(app)
    backup = tmp_path / "inngang-backup.db"
    assert cli.main(["backup", str(backup)]) == 0
    assert "2 case(s)" in capsys.readouterr().out
    assert cli.main(["backup", str(backup)]) == 1  # never over an existing file
    assert "exists already" in capsys.readouterr().err

    await asks_anonymously(app, "browser-after", "Dette kom etter sikkerhetskopien")
    app.store.close()
    assert cli.main(["restore", str(backup)]) == 1  # not without --yes
    assert "--yes" in capsys.readouterr().err
    assert cli.main(["restore", str(backup), "--yes"]) == 0
    out = capsys.readouterr().out
    [kept] = tmp_path.glob("inngang.db.before-restore-*")
    assert str(kept) in out
    restored = restored_app(tmp_path, database, tmp_path, clock)
    assert read_back(restored) == set(QUESTIONS)  # as it was at the backup
    before = restored_app(tmp_path / "kept", kept, tmp_path, clock)
    assert "Dette kom etter sikkerhetskopien" in read_back(before)  # nothing lost


def test_what_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, " * 200)
    with pytest.raises(BackupError, match="not an Inngang database"):
        check_backup(junk)
    with pytest.raises(BackupError, match="no database"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_backup_on_postgresql_points_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INNGANG_DATABASE_URL", "postgresql+psycopg://inngang@127.0.0.1/x")
    monkeypatch.delenv("INNGANG_CONFIG", raising=False)
    assert cli.main(["backup", "/tmp/never-written.db"]) == 2
    assert "pg_dump" in capsys.readouterr().err


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as libpq takes it (no driver, no password), and the password for
    PGPASSWORD: a password in a command line is visible to every user of the machine."""
    parsed = make_url(url)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), {"PGPASSWORD": parsed.password or ""}


@pytest.mark.postgres
async def test_pg_dump_and_pg_restore_into_a_new_database_round_trip(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = fresh_postgres_url()
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI"):  # .ci/run installs PostgreSQL and grants CREATEDB
            pytest.fail("pg_dump/pg_restore are not installed (Debian: postgresql-client)")
        pytest.skip("pg_dump/pg_restore are not installed (Debian: postgresql-client)")
    app = build_app(
        app_settings(tmp_path, database_url=url), clock=clock, secret_file=tmp_path / "secret.key"
    )
    await two_cases(app)
    source, password = libpq(url)
    env = {**os.environ, **password}
    dump = tmp_path / "inngang.dump"
    subprocess.run(  # docs/operating.md, "Back up PostgreSQL"
        ["pg_dump", "--format=custom", f"--file={dump}", source],
        env=env,
        check=True,
        timeout=120,
    )
    name = f"{make_url(url).database}_restore"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except ProgrammingError:  # the role may not create databases (.ci/run grants CREATEDB)
        admin.dispose()
        if os.environ.get("CI"):
            raise
        if os.environ.get("CI"):  # .ci/run installs PostgreSQL and grants CREATEDB
            pytest.fail("the test role cannot create databases: ALTER ROLE inngang CREATEDB")
        pytest.skip("the test role cannot create databases: ALTER ROLE inngang CREATEDB")
    target_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    target, _ = libpq(target_url)
    try:
        subprocess.run(  # docs/operating.md, "Restore PostgreSQL"
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={target}",
                str(dump),
            ],
            env=env,
            check=True,
            timeout=120,
        )
        restored = build_app(
            app_settings(tmp_path / "restored", database_url=target_url),
            clock=clock,
            secret_file=tmp_path / "secret.key",
        )
        assert read_back(restored) == read_back(app) >= set(QUESTIONS)
        await asks_anonymously(restored, "browser-new", "Hvor er helsestasjonen for ungdom?")
        assert len(restored.queue.open_cases("kari")) == 3
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
