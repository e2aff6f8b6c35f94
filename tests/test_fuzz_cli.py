"""Fuzzing the command line: bad ids, invalid UTF-8, control characters, huge and
non-ASCII numbers, missing arguments give a clear message and a non-zero exit, never a
traceback. On SQLite and PostgreSQL (there, the arguments that reach the database)."""

from __future__ import annotations

from tests.fuzz_drivers import CLI_ARGS, fuzz_cli


async def test_every_bad_argument_class_gets_a_clear_message_never_a_traceback(
    database_url: str,
) -> None:
    on_postgres = database_url.startswith("postgresql")
    report = await fuzz_cli(database_url, only_database=on_postgres)
    assert len(report.tried) >= (10 if on_postgres else len(CLI_ARGS))
    assert report.crashes == {}
