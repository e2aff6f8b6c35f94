"""Every crisis answer, in every language, renders whole on SMS: numbers first, at most two
messages, never split inside a number, never "press the button"."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.channels.sms import sms_parts
from bot.i18n import Catalogs
from bot.settings import Settings
from flows import answers
from flows.types import FlowContext

LANGUAGES = ("nb", "nn", "en", "pl", "uk", "ar", "so")
CATEGORIES = tuple(answers.CRISIS_SMS)
PRESS = re.compile(
    r"trykk|press|tap|naciśnij|натисн|اضغط|riix|knapp|button|przycisk|кнопк|زر", re.I
)
REFERENCE = "K-7KQ2MX"
NIGHT = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def contexts(settings: Settings, catalogs: Catalogs) -> list[FlowContext]:
    day = FlowContext(settings=settings, t=catalogs, now=datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    night = replace(day, now=NIGHT, office_open=False, next_opening=MORNING)
    return [day, night]


def digits_whole(parts: list[str], number: str) -> bool:
    return any(number in part for part in parts)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_crisis_answer_fits_two_sms_with_every_number_whole(
    settings: Settings, catalogs: Catalogs, language: str
) -> None:
    for ctx in contexts(settings, catalogs):
        for category in CATEGORIES:
            for audience in ("youth", "adults", None):
                answer = answers.crisis_answer(ctx, language, category, audience)
                assert answer.short is not None and not answer.buttons
                parts = sms_parts(answer.short, settings.sms.max_parts)
                assert len(parts) <= 2, (language, category, audience, answer.short)
                assert not PRESS.search(answer.short)
                helpline = "116 123" if audience == "adults" else "116 111"
                for number in ("113", helpline):
                    if number in answer.short:
                        assert digits_whole(parts, number), (language, parts)
                assert re.search(r"11[23]", answer.short), (language, category)
            for claimed in (False, True):
                note = answers.crisis_case_note(
                    ctx, language, REFERENCE, opened=not claimed, claimed=claimed
                )
                assert note.short is not None and REFERENCE in note.short
                parts = sms_parts(note.short, settings.sms.max_parts)
                assert len(parts) <= 2, (language, note.short)
                assert not PRESS.search(note.short)
                if not ctx.office_open and not claimed:
                    assert digits_whole(parts, settings.after_hours.phone), (language, parts)


@pytest.mark.parametrize("language", LANGUAGES)
def test_out_of_hours_the_crisis_answer_gives_the_after_hours_line_and_no_promise_of_a_person(
    settings: Settings, catalogs: Catalogs, language: str
) -> None:
    _, night = contexts(settings, catalogs)
    answer = answers.crisis_answer(night, language, "self_harm", "youth")
    note = answers.crisis_case_note(night, language, REFERENCE, opened=True, claimed=False)
    assert settings.after_hours.phone in answer.text
    assert settings.after_hours.phone in note.text and REFERENCE in note.text
    assert "08:00" in note.text  # when the los reads it: the next opening, in Oslo time


def test_a_long_sms_is_never_split_inside_a_number() -> None:
    text = ("ord " * 30) + "ring 116 111 eller 55 10 20 99 " + ("ord " * 30)
    parts = sms_parts(text, 8)
    assert any("116 111" in p for p in parts) and any("55 10 20 99" in p for p in parts)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_consent_a_citizen_gets_by_sms_is_whole_and_is_what_is_recorded(
    offline_app: object, language: str
) -> None:
    import hashlib

    from sqlalchemy import select

    from bot.app import App
    from bot.channels.render import plain_texts
    from bot.store.models import Consent, ConsentText
    from flows.types import Inbound

    assert isinstance(offline_app, App)
    router = offline_app.router
    user = f"+47900{language}"
    await router.handle(Inbound("sms", user, "", button=f"lang:{language}"))
    await router.handle(Inbound("sms", user, "", button="person"))
    await router.handle(Inbound("sms", user, "", button="about:child"))
    shown = await router.handle(Inbound("sms", user, "", button="age:6-12"))
    [consent] = [r for r in shown.replies if len(r.buttons) == 5]
    [text] = plain_texts([consent])
    parts = sms_parts(text, offline_app.settings.sms.max_parts)
    assert not any(part.endswith("…") for part in parts), (language, len(text))  # never cut
    assert len(parts) <= 4, (language, parts)
    assert "5." in parts[-1]  # the choices arrive, to the last one
    await router.handle(Inbound("sms", user, "", button="consent:los"))
    with offline_app.store.sessions() as session:
        record = session.scalars(select(Consent)).one()
        stored = session.get_one(ConsentText, record.text_sha256)
        assert record.version.endswith("-sms") and stored.text == consent.text
        assert record.text_sha256 == hashlib.sha256(consent.text.encode()).hexdigest()
