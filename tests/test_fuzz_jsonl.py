"""Fuzzing `inngang chat --jsonl`: one process fed every bad line (invalid JSON and UTF-8,
wrong types, huge and deeply nested lines, surrogates) answers each with one line, answers
the good line after each, and ends normally. On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.fuzz_drivers import fuzz_jsonl


def test_one_process_survives_every_bad_line_and_answers_the_next_good_one(
    database_url: str,
) -> None:
    report = fuzz_jsonl(database_url)
    assert len(report.tried) >= 150
    assert report.crashes == {}
