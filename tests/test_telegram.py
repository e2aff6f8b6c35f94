"""Telegram through the real python-telegram-bot library against a local fake Bot API.
Nothing here reaches the internet."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel, command_menus, split_text, tappable
from bot.store.models import Conversation, Message, Outbox
from bot.web import create_web_app
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram, eventually, running

PARENT = 4242
LOS_REPLY = "Hei, det er bra du skriver."


def channel_for(app: App, fake: FakeTelegram, per_chat_interval_s: float = 0.0) -> TelegramChannel:
    """A channel against the fake; the language detector is built first (once per process,
    some seconds) so that no test measures it."""
    app.understander.guesser.detect("hei", None)
    return TelegramChannel(
        app.router,
        fake.token,
        base_url=fake.base_url,
        per_chat_interval_s=per_chat_interval_s,
        push_interval_s=0.05,
        menus=command_menus(
            app.catalogs, app.settings.languages.supported, app.settings.languages.default
        ),
    )


@pytest.fixture
async def telegram(offline_app: App) -> AsyncIterator[tuple[FakeTelegram, TelegramChannel]]:
    async with running(FakeTelegram()) as fake:
        channel = channel_for(offline_app, fake)
        await channel.start_polling()
        try:
            yield fake, channel
        finally:
            await channel.stop()


def inbound_texts(app: App) -> list[str]:
    with app.store.sessions() as session:
        return [m.text for m in session.scalars(select(Message).where(Message.direction == "in"))]


def undelivered(app: App) -> list[str]:
    """Texts waiting in the outbox, oldest first."""
    with app.store.sessions() as session:
        rows = session.scalars(
            select(Outbox).where(Outbox.delivered_at.is_(None)).order_by(Outbox.id)
        ).all()
        return [r.text for r in rows]


async def settled(app: App, fake: FakeTelegram, quiet_s: float = 0.3) -> None:
    """Every message handled and nothing sent for ``quiet_s``."""
    await eventually(lambda: app.store.unhandled_inbound() == [])
    while True:
        count = len(fake.sent)
        await asyncio.sleep(quiet_s)
        if len(fake.sent) == count:
            return


async def test_a_parent_asks_on_telegram_and_gets_the_answer_with_a_button(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    fake.user_says(PARENT, "hvor er helsestasjonen?")
    await eventually(lambda: fake.texts_to(PARENT))
    [sent] = fake.sent
    assert "55 10 20 01" in sent["text"] and sent["parse_mode"] is None
    [[button]] = sent["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Snakk med en person", "callback_data": "person"}
    assert "getMe" in fake.calls


async def test_a_replayed_update_is_handled_once(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    fake.user_says(PARENT, "hei", update_id=5000)
    await eventually(lambda: len(fake.sent) == 1)
    fake.replay(5000)  # Telegram hands the same update out again, past the offset
    fake.user_says(PARENT, "takk", update_id=5001)
    await eventually(lambda: fake.replayed == 1 and "takk" in inbound_texts(offline_app))
    await settled(offline_app, fake)
    assert inbound_texts(offline_app) == ["hei", "takk"]
    assert len(fake.sent) == 2  # "hei" answered once, "takk" once


async def test_pressing_a_button_answers_the_callback_and_starts_the_intake(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.user_presses(PARENT, "person")
    await eventually(lambda: fake.sent)
    assert fake.answered_callbacks
    assert "hvem gjelder det" in fake.sent[-1]["text"]
    labels = [row[0]["text"] for row in fake.sent[-1]["reply_markup"]["inline_keyboard"]]
    assert labels == ["Meg selv", "Mitt barn", "Et annet barn", "Avbryt"]


@pytest.mark.parametrize(
    "kind,payload",
    [
        ("voice", {"file_id": "v1", "file_unique_id": "u1", "duration": 3}),
        ("photo", [{"file_id": "p1", "file_unique_id": "u2", "width": 10, "height": 10}]),
        (
            "sticker",
            {
                "file_id": "s1",
                "file_unique_id": "u3",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        ),
        ("location", {"latitude": 60.0, "longitude": 5.0}),
    ],
)
async def test_media_gets_a_kind_answer_and_is_not_kept(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App, kind: str, payload: object
) -> None:
    fake, _ = telegram
    fake.user_sends(PARENT, kind, payload)
    await eventually(lambda: fake.sent)
    assert "kan bare lese tekst" in fake.sent[-1]["text"]
    with offline_app.store.sessions() as session:
        assert [
            m.text for m in session.scalars(select(Message).where(Message.direction == "in"))
        ] == [f"[{kind}]"]


async def test_an_edited_message_is_answered_kindly(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.user_edits(PARENT, "hvor er PPT?")
    await eventually(lambda: fake.sent)
    assert "ny melding" in fake.sent[-1]["text"]


async def test_group_chats_are_ignored(telegram: tuple[FakeTelegram, TelegramChannel]) -> None:
    fake, _ = telegram
    fake.user_says(99, "hei alle sammen", chat_type="group")
    fake.user_says(PARENT, "hei")
    await eventually(lambda: fake.sent)
    assert {m["chat_id"] for m in fake.sent} == {PARENT}


async def test_a_429_is_retried_after_retry_after(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.rate_limit_next = 1
    fake.user_says(PARENT, "hei")
    await eventually(lambda: fake.sent, timeout=15)
    assert fake.calls.count("sendMessage") == 2


async def test_a_citizen_who_blocked_the_bot_is_unreachable_and_gets_the_reply_on_return(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    fake.user_says(PARENT, "/anonym")
    await eventually(lambda: fake.sent)
    fake.user_says(PARENT, "kan noen hjelpe meg med mamma som drikker mye?")
    await eventually(lambda: len(fake.sent) == 2)
    fake.blocked_chats.add(PARENT)
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", LOS_REPLY)
    await eventually(lambda: offline_app.queue.open_cases("kari")[0].unreachable)
    assert LOS_REPLY in undelivered(offline_app)  # kept, not marked delivered
    tries = fake.calls.count("sendMessage")
    await asyncio.sleep(0.3)
    assert fake.calls.count("sendMessage") == tries  # an unreachable chat is not hammered

    fake.blocked_chats.discard(PARENT)
    before = len(fake.texts_to(PARENT))
    fake.user_says(PARENT, "hei igjen")
    await eventually(lambda: "hei igjen" in inbound_texts(offline_app))
    await settled(offline_app, fake)
    texts = fake.texts_to(PARENT)[before:]
    with offline_app.store.sessions() as session:
        last = max(session.scalars(select(Message.id).where(Message.direction == "in")))
    answer = [r.text for r in offline_app.store.replies_to(last)]
    assert texts.count(LOS_REPLY) == 1
    waited = len(texts) - len(answer)
    assert texts[waited:] == answer  # what waited came first, then the new answer (if any)
    assert LOS_REPLY in texts[:waited]
    assert undelivered(offline_app) == []
    assert not offline_app.queue.open_cases("kari")[0].unreachable


async def test_a_transient_502_is_retried_from_the_outbox_and_delivered_once(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App, clock: FakeClock
) -> None:
    fake, _ = telegram
    fake.fail_sends(502)
    fake.user_says(PARENT, "jeg vil ikke leve lenger")
    await eventually(lambda: fake.calls.count("sendMessage") == 1)
    await asyncio.sleep(0.1)  # the failure is recorded
    assert fake.sent == [] and fake.calls.count("sendMessage") == 1
    waiting = undelivered(offline_app)
    assert "113" in waiting[0]  # the crisis answer waits, not marked delivered
    await asyncio.sleep(0.2)
    assert fake.sent == []  # postponed: not retried before its back-off
    clock.advance(seconds=30)
    await eventually(lambda: undelivered(offline_app) == [])
    await settled(offline_app, fake)
    as_sent = tappable(offline_app.settings)  # numbers in full, to tap
    assert fake.texts_to(PARENT) == [as_sent(t) for t in waiting]  # each once, in order


async def test_a_recovered_answer_is_pushed_once(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    store, router = offline_app.store, offline_app.router
    address = router.address("telegram", str(PARENT))
    store.record_inbound("telegram", address, "hvor er PPT?", "77", "nb")  # then a crash
    store.set_push_address("telegram", address, str(PARENT))
    assert await router.recover_unhandled() == 1
    await eventually(lambda: fake.texts_to(PARENT))
    await settled(offline_app, fake)
    [answer] = fake.texts_to(PARENT)
    assert "PPT" in answer and undelivered(offline_app) == []
    assert await router.recover_unhandled() == 0


async def test_after_a_restart_a_waiting_los_reply_is_pushed_without_the_citizen_writing(
    offline_app: App, tmp_path: Path, clock: FakeClock
) -> None:
    async with running(FakeTelegram()) as fake:
        first = channel_for(offline_app, fake)
        await first.start_polling()
        fake.user_says(PARENT, "/anonym")
        fake.user_says(PARENT, "hvordan får jeg time hos helsesykepleier?")
        await eventually(lambda: len(fake.sent) == 2)
        await first.stop()
        [item] = offline_app.queue.open_cases("kari")
        offline_app.queue.claim(item.reference, "kari")
        offline_app.queue.reply(item.reference, "kari", LOS_REPLY)

        restarted = build_app(  # a new process: nothing in memory, the same database
            app_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key"
        )
        with restarted.store.sessions() as session:
            [stored] = session.scalars(select(Conversation.push_address)).all()
        assert stored == str(PARENT)
        second = channel_for(restarted, fake)
        await second.start_polling()
        try:
            await eventually(lambda: LOS_REPLY in fake.texts_to(PARENT))
            await settled(restarted, fake)
        finally:
            await second.stop()
    assert fake.texts_to(PARENT).count(LOS_REPLY) == 1
    assert undelivered(restarted) == []


async def test_a_busy_chat_does_not_delay_another_familys_crisis_answer(
    offline_app: App,
) -> None:
    async with running(FakeTelegram()) as fake:
        channel = channel_for(offline_app, fake, per_chat_interval_s=1.0)
        await channel.start_polling()
        busy, other = 1001, 2002
        for n in range(30):
            fake.user_says(busy, f"hei {n}")
        await eventually(lambda: fake.texts_to(busy))  # the busy chat is being answered
        asked = time.monotonic()
        fake.user_says(other, "jeg vil ikke leve lenger")
        await eventually(lambda: fake.texts_to(other), timeout=30)
        first = next(m for m in fake.sent if m["chat_id"] == other)
        delay = first["at"] - asked
        print(f"crisis answer to another chat after {delay:.2f} s")
        assert "113" in first["text"] and delay < 2.0
        await channel.stop()
    paced = [m["at"] for m in fake.sent if m["chat_id"] == busy]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(paced))
    assert len(paced) < 30  # it was still busy: the crisis answer did not wait for it


async def test_a_los_reply_is_pushed_to_the_telegram_chat(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    fake.user_says(PARENT, "/anonym")
    fake.user_says(PARENT, "hvordan får jeg time hos helsesykepleier?")
    await eventually(lambda: len(fake.sent) == 2)
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Du kan gå innom på tirsdag.")
    await eventually(lambda: "Du kan gå innom på tirsdag." in fake.texts_to(PARENT))


async def test_the_webhook_rejects_a_wrong_secret_and_processes_nothing(offline_app: App) -> None:
    async with running(FakeTelegram()) as fake:
        channel = TelegramChannel(
            offline_app.router, fake.token, base_url=fake.base_url, per_chat_interval_s=0.0
        )
        await channel.start_webhook("https://kommune.example/telegram/webhook", "s3cret")
        assert fake.webhook["secret_token"] == "s3cret"
        web = create_web_app(offline_app, channel, "s3cret")
        update = {"update_id": 1, "message": fake._message(PARENT, "hei", "nb", "private")}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://inngang"
        ) as client:
            wrong = await client.post(
                "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
            )
            missing = await client.post("/telegram/webhook", json=update)
            assert (wrong.status_code, missing.status_code) == (403, 403)
            assert fake.sent == []
            right = await client.post(
                "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )
            assert right.status_code == 200
        await channel.stop()
    assert fake.texts_to(PARENT) and "Hei!" in fake.texts_to(PARENT)[0]


def test_long_replies_are_split_at_4096_without_breaking_words() -> None:
    text = ("ord " * 2000).strip()
    parts = split_text(text)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 2
    assert " ".join(parts) == text
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)


async def test_the_command_menu_is_registered_in_each_language(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    norwegian = [c["command"] for c in fake.menus["nb"]]
    english = [c["command"] for c in fake.menus["en"]]
    assert norwegian == [
        "start",
        "person",
        "hjelp",
        "sprak",
        "anonym",
        "mine_data",
        "slett",
        "trekk_samtykke",
        "stopp",
    ]
    assert english[:4] == ["start", "person", "help", "language"]
    assert fake.menus[""] == fake.menus["nb"]  # the default language for everyone else


async def test_every_language_has_its_own_menu_with_the_way_to_a_person(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    catalogs = offline_app.catalogs
    for language in offline_app.settings.languages.supported:
        menu = fake.menus[language]
        descriptions = [c["description"] for c in menu]
        assert descriptions[1] == catalogs("command.describe.person", language)
        assert all(1 <= len(d) <= 256 for d in descriptions)
        assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) for c in menu)
    assert fake.menus["no"] == fake.menus["nb"]  # Norwegian apps that say "no"


async def test_phone_numbers_are_sent_in_international_form_to_tap_and_call(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.user_says(PARENT, "hvor er barnevernet?")
    await eventually(lambda: fake.texts_to(PARENT))
    text = fake.sent[-1]["text"]
    assert "+47 55 10 20 05" in text and "+47 55 10 20 99" in text  # the after-hours line
    assert "+47 +47" not in text
    fake.user_says(PARENT, "jeg vil ikke leve lenger")
    await eventually(lambda: len(fake.sent) >= 3)
    crisis = fake.sent[1]["text"]
    assert re.search(r"(?<![+\d])113\b", crisis)  # short numbers are dialled as they are
    assert "+47 116" not in crisis and "+47 113" not in crisis


def test_a_number_written_in_full_already_is_left_as_it_is(offline_app: App) -> None:
    write = tappable(offline_app.settings)
    assert write("Ring +47 55 10 20 01 eller 55 10 20 01.") == (
        "Ring +47 55 10 20 01 eller +47 55 10 20 01."
    )
    assert write("Saksnummer 155 10 20 011") == "Saksnummer 155 10 20 011"


async def test_a_localised_command_works(telegram: tuple[FakeTelegram, TelegramChannel]) -> None:
    fake, _ = telegram
    fake.user_says(PARENT, "/sprak")
    await eventually(lambda: fake.sent)
    labels = [row[0]["text"] for row in fake.sent[-1]["reply_markup"]["inline_keyboard"]]
    assert "English" in labels and "العربية" in labels


async def test_a_photo_with_a_crisis_caption_still_gets_the_emergency_numbers(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    fake.user_sends(PARENT, "photo", photo, caption="jeg vil ikke leve mer")
    await eventually(lambda: len(fake.sent) >= 3)
    texts = [m["text"] for m in fake.sent]
    assert "113" in texts[0] and any("kan bare lese tekst" in t for t in texts)


async def test_a_message_edited_into_a_crisis_still_gets_the_emergency_numbers(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.user_edits(PARENT, "stefaren min slår meg")
    await eventually(lambda: len(fake.sent) >= 3)
    texts = [m["text"] for m in fake.sent]
    assert "112" in texts[0] and any("ny melding" in t for t in texts)


async def test_a_photo_caption_edited_into_a_crisis_gets_the_emergency_numbers(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.user_edits(PARENT, "jeg vil ta livet mitt i kveld", caption_of="photo")
    await eventually(lambda: len(fake.sent) >= 2)
    assert "113" in fake.sent[0]["text"]


async def test_a_crisis_at_the_end_of_a_very_long_message_is_answered(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    story = "Vi har hatt det vanskelig lenge og jeg vet ikke hvem jeg skal snakke med. " * 55
    fake.user_says(PARENT, story[:4060] + " Jeg vil ta livet mitt i kveld.")
    await eventually(lambda: len(fake.sent) >= 2)
    assert "113" in fake.sent[0]["text"]
