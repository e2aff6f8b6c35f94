"""Fuzzing the staff console: bad references, path tricks, unknown actions, odd and huge
form fields, wrong content types, missing or foreign Origin, odd credentials are refused
cleanly or handled, never a 5xx; the case page still opens after each. On SQLite and
PostgreSQL."""

from __future__ import annotations

from bot.app import App
from tests.fuzz_drivers import fuzz_console


async def test_every_bad_request_class_is_refused_cleanly_and_the_case_still_opens(
    any_app: App,
) -> None:
    report = await fuzz_console(any_app)
    assert len(report.tried) >= 150
    assert report.crashes == {}
