"""Telegram through the real python-telegram-bot library against a local fake Bot API.
Nothing here reaches the internet."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel, command_menus, split_text
from bot.store.models import Message
from bot.web import create_web_app
from tests.fakes.telegram_api import FakeTelegram, eventually, running

PARENT = 4242


@pytest.fixture
async def telegram(offline_app: App) -> AsyncIterator[tuple[FakeTelegram, TelegramChannel]]:
    async with running(FakeTelegram()) as fake:
        channel = TelegramChannel(
            offline_app.router,
            fake.token,
            base_url=fake.base_url,
            per_chat_interval_s=0.0,
            push_interval_s=0.05,
            menus=command_menus(
                offline_app.catalogs,
                offline_app.settings.languages.supported,
                offline_app.settings.languages.default,
            ),
        )
        await channel.start_polling()
        try:
            yield fake, channel
        finally:
            await channel.stop()


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
    fake.user_says(PARENT, "hei", update_id=5000)  # Telegram retries the same update
    fake.user_says(PARENT, "takk", update_id=5001)
    await eventually(lambda: len(fake.sent) == 2)
    with offline_app.store.sessions() as session:
        texts = [m.text for m in session.scalars(select(Message).where(Message.direction == "in"))]
    assert texts == ["hei", "takk"]


async def test_pressing_a_button_answers_the_callback_and_starts_the_intake(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    fake.user_presses(PARENT, "person")
    await eventually(lambda: fake.sent)
    assert fake.answered_callbacks
    assert "hvem gjelder det" in fake.sent[-1]["text"]
    labels = [row[0]["text"] for row in fake.sent[-1]["reply_markup"]["inline_keyboard"]]
    assert labels == ["Meg selv", "Mitt barn", "Et annet barn"]


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


async def test_a_citizen_who_blocked_the_bot_is_shown_unreachable_to_the_los(
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
    offline_app.queue.reply(item.reference, "kari", "Hei, det er bra du skriver.")
    await eventually(lambda: offline_app.queue.open_cases("kari")[0].unreachable)


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
        "hjelp",
        "sprak",
        "anonym",
        "mine_data",
        "slett",
        "trekk_samtykke",
        "stopp",
    ]
    assert english[:3] == ["start", "help", "language"]
    assert fake.menus[""] == fake.menus["nb"]  # the default language for everyone else


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
