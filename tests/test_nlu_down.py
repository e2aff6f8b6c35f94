"""When the Rasa server is unreachable the citizen still gets a polite answer, an offer of a
person, and the crisis lines when there is danger."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import App
from flows.types import Inbound
from nlu.rasa_client import RasaReading


async def test_the_offline_matcher_still_answers_a_common_question(offline_app: App) -> None:
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "hvor er helsestasjonen?"))
    assert handled.topic == "helsestasjon"
    assert offline_app.settings.service("helsestasjon").phone in handled.replies[0].text
    assert not offline_app.understander.rasa_available


async def test_gibberish_gets_a_polite_answer_and_a_person(offline_app: App) -> None:
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "qwrtzp xkcd vbnm"))
    reply = handled.replies[0]
    assert handled.topic is None
    assert "Beklager" in reply.text or "Sorry" in reply.text
    assert [b.payload for b in reply.buttons] == ["person"]


async def test_a_crisis_message_gets_the_emergency_numbers_without_rasa(offline_app: App) -> None:
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "jeg vil ikke leve mer"))
    text = handled.replies[0].text
    assert handled.crisis and handled.topic == "psykisk_helse_rus"
    assert "113" in text and "112" in text
    assert handled.handover and "K-" in handled.replies[1].text  # an urgent case, at once


async def test_a_dead_server_is_asked_once_then_left_alone_for_a_while(
    offline_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa = offline_app.understander.rasa
    assert rasa is not None
    calls: list[str] = []
    real_read = rasa.read

    async def counting_read(text: str, sent: asyncio.Event | None = None) -> RasaReading:
        calls.append(text)
        return await real_read(text, sent)

    monkeypatch.setattr(rasa, "read", counting_read)
    for text in ("hei", "barnevernet", "nav", "ppt"):
        await offline_app.router.handle(Inbound("jsonl", "u", text))
    assert len(calls) == 1


async def test_warming_up_before_the_first_citizen_works_with_rasa_down(offline_app: App) -> None:
    await offline_app.understander.warm_up()  # `inngang run` does this before serving
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "hei"))
    assert handled.replies
