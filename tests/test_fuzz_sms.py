"""Fuzzing the SMS webhook: every bad-input class (text, number, id, body, signature,
timestamp, content type) gets 4xx with a code or an answer by SMS, never a 5xx; the
sender's next "hei" is answered; nothing recorded is lost. On SQLite and PostgreSQL."""

from __future__ import annotations

from bot.app import App
from tests.fuzz_drivers import fuzz_sms


async def test_every_bad_input_class_gets_a_clear_answer_and_the_next_hei_a_reply(
    any_app: App,
) -> None:
    report = await fuzz_sms(any_app)
    assert len(report.tried) >= 150
    assert report.crashes == {}
