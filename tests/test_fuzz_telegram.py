"""Fuzzing the Telegram webhook through python-telegram-bot and the fake Bot API: malformed
and odd updates, wrong field types, huge ids, unknown kinds, odd callback data get 400 or
an answer, never a 5xx or an error logged; the chat's next "hei" is answered; nothing
recorded is lost. On SQLite and PostgreSQL."""

from __future__ import annotations

from bot.app import App
from tests.fuzz_drivers import fuzz_telegram


async def test_every_bad_update_class_gets_a_clear_answer_and_the_next_hei_a_reply(
    any_app: App,
) -> None:
    report = await fuzz_telegram(any_app)
    assert len(report.tried) >= 150
    assert report.crashes == {}
