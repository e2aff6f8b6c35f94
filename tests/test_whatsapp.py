"""WhatsApp against a local fake of the Cloud API (real HTTP, started here): signed webhooks in,
Graph API POSTs out. Nothing here reaches the internet."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from bot.app import App
from bot.channels.whatsapp import WhatsAppChannel, as_whatsapp, message_payloads
from bot.settings import PROJECT_ROOT, ConfigError, load_settings
from bot.store.models import Message, Outbox
from bot.web import _start_whatsapp, create_web_app
from flows.types import Button, Outbound
from tests.fakes.clock import FakeClock
from tests.fakes.whatsapp_api import FakeWhatsApp, running

PARENT = "4791234567"
VERIFY = "verify-me"
LOS_REPLY = "Hei, det er Kari, familielos. Jeg kan ringe deg i morgen kl 10."

Fixture = tuple[FakeWhatsApp, WhatsAppChannel]


@pytest.fixture
async def whatsapp(offline_app: App, clock: FakeClock) -> AsyncIterator[Fixture]:
    """The application with WhatsApp on (the shipped templates), the fake Cloud API serving
    on a free port, and the fake posting its webhooks to the application."""
    fake = FakeWhatsApp(clock=lambda: clock().timestamp())
    async with running(fake):
        settings = offline_app.settings.whatsapp.model_copy(
            update={
                "enabled": True,
                "phone_number_id": fake.phone_number_id,
                "api_url": fake.base_url,
            }
        )
        channel = WhatsAppChannel(offline_app.router, settings, fake.token, fake.app_secret, VERIFY)
        web = create_web_app(offline_app, whatsapp=channel)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://inngang"
        ) as client:
            fake.app = client
            yield fake, channel
        await channel.aclose()


def inbound(app: App) -> list[tuple[str, str | None]]:
    """(text, media) of every recorded citizen message."""
    with app.store.sessions() as session:
        rows = session.scalars(select(Message).where(Message.direction == "in")).all()
        return [(m.text, m.media) for m in rows]


def waiting(app: App) -> list[str]:
    """Texts waiting in the outbox, oldest first."""
    with app.store.sessions() as session:
        rows = session.scalars(
            select(Outbox).where(Outbox.delivered_at.is_(None)).order_by(Outbox.id)
        ).all()
        return [r.text for r in rows]


def offered(fake: FakeWhatsApp, number: str = PARENT) -> dict[str, str]:
    """The choices of the last interactive message: title -> id."""
    [last] = [m for m in fake.to(number) if m["type"] == "interactive"][-1:]
    interactive = last["interactive"]
    if interactive["type"] == "button":
        return {b["reply"]["title"]: b["reply"]["id"] for b in interactive["action"]["buttons"]}
    rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
    return {r["title"]: r["id"] for r in rows}


async def tap(fake: FakeWhatsApp, payload: str) -> None:
    """The parent taps the offered choice with this payload."""
    choices = offered(fake)
    assert payload in choices.values(), (payload, choices)
    title = next(t for t, p in choices.items() if p == payload)
    await fake.user_taps(PARENT, payload, title)


async def test_a_parent_writes_on_whatsapp_and_gets_the_answer_with_reply_buttons(
    whatsapp: Fixture,
) -> None:
    fake, _ = whatsapp
    await fake.user_says(PARENT, "hvor er helsestasjonen?")
    [sent] = fake.sent
    assert sent["to"] == PARENT and sent["type"] == "interactive"
    assert sent["interactive"]["type"] == "button"
    assert "55 10 20 01" in sent["interactive"]["body"]["text"]
    assert sent["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "person", "title": "Snakk med en person"}}
    ]
    assert sent["biz_opaque_callback_data"].startswith("outbox-")  # echoed in statuses


async def test_a_tapped_reply_button_is_understood(whatsapp: Fixture) -> None:
    fake, _ = whatsapp
    await fake.user_says(PARENT, "hei")
    await tap(fake, "person")
    assert "hvem gjelder det" in fake.texts_to(PARENT)[-1]
    assert list(offered(fake)) == ["Meg selv", "Mitt barn", "Et annet barn", "Avbryt"]


async def test_more_than_three_choices_come_as_a_list_and_a_row_is_understood(
    whatsapp: Fixture,
) -> None:
    fake, _ = whatsapp
    await fake.user_says(PARENT, "/sprak")
    [last] = fake.to(PARENT)[-1:]
    assert last["interactive"]["type"] == "list"
    assert last["interactive"]["action"]["button"] == "Velg"
    assert len(offered(fake)) == 7
    english = next(p for t, p in offered(fake).items() if t == "English")
    await tap(fake, english)
    assert fake.refused == []
    assert re.search(r"\bEnglish\b|\bin English\b", fake.texts_to(PARENT)[-1], re.I)


async def test_the_subscription_check_echoes_the_challenge_only_with_our_token(
    whatsapp: Fixture,
) -> None:
    fake, _ = whatsapp
    assert fake.app is not None
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = await fake.app.get("/whatsapp/webhook", params=query)
    assert response.status_code == 200 and response.text == "1158201444"
    query["hub.verify_token"] = "guess"
    assert (await fake.app.get("/whatsapp/webhook", params=query)).status_code == 403


async def test_a_bad_signature_is_refused_and_nothing_is_stored(
    whatsapp: Fixture, offline_app: App
) -> None:
    fake, _ = whatsapp
    await fake.user_says(PARENT, "jeg vil ikke leve lenger", signed=False)
    assert fake.last_response is not None and fake.last_response.status_code == 401
    await fake.user_says(PARENT, "jeg vil ikke leve lenger", secret="guessed-secret")
    assert fake.last_response.status_code == 401
    assert fake.sent == [] and inbound(offline_app) == []
    assert offline_app.queue.open_cases("kari") == []


async def test_a_retried_webhook_is_answered_once(whatsapp: Fixture, offline_app: App) -> None:
    fake, _ = whatsapp
    wamid = await fake.user_says(PARENT, "hei")
    count = len(fake.sent)
    retry = await fake.retry(wamid)
    assert retry.status_code == 200 and len(fake.sent) == count
    await fake.user_says(PARENT, "hei")  # the same words again are a new message (a new id)
    assert len(fake.sent) == 2 * count
    assert inbound(offline_app) == [("hei", None), ("hei", None)]


async def anonymous_question_to_the_los(fake: FakeWhatsApp, app: App) -> str:
    await fake.user_says(PARENT, "/anonym")
    await fake.user_says(PARENT, "Hvordan søker jeg om støtte til fritidsaktiviteter?")
    [item] = app.queue.open_cases("kari")
    assert item.channel == "whatsapp"
    return item.reference


async def test_a_los_reply_within_the_window_goes_at_once(
    whatsapp: Fixture, offline_app: App
) -> None:
    fake, channel = whatsapp
    reference = await anonymous_question_to_the_los(fake, offline_app)
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.reply(reference, "kari", LOS_REPLY)
    assert await channel.push_pending() == 1
    assert fake.to(PARENT)[-1]["text"]["body"] == LOS_REPLY


async def test_a_los_reply_after_25_hours_goes_as_the_template(
    whatsapp: Fixture, offline_app: App, clock: FakeClock
) -> None:
    fake, channel = whatsapp
    reference = await anonymous_question_to_the_los(fake, offline_app)
    clock.advance(hours=25)
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.reply(reference, "kari", LOS_REPLY)
    await channel.push_pending()
    last = fake.to(PARENT)[-1]
    assert last["type"] == "template"
    assert last["template"] == {"name": "inngang_svar_venter", "language": {"code": "nb"}}
    assert fake.refused == []  # nothing free-form was tried outside the window
    assert waiting(offline_app) == [LOS_REPLY]  # the reply waits for the parent

    clock.advance(hours=7)
    await channel.push_pending()
    assert len([m for m in fake.to(PARENT) if m["type"] == "template"]) == 1  # told once

    await fake.user_says(PARENT, "Ja?")  # answering opens the window: the reply goes first
    assert fake.texts_to(PARENT)[-1] == LOS_REPLY and waiting(offline_app) == []


async def test_when_whatsapp_says_the_window_closed_the_reply_goes_back_and_the_template_goes(
    whatsapp: Fixture, offline_app: App, clock: FakeClock
) -> None:
    fake, channel = whatsapp
    fake.window_errors = "async"  # taken, then reported failed in a status (131047)
    reference = await anonymous_question_to_the_los(fake, offline_app)
    fake.last_inbound[PARENT] -= 25 * 3600  # WhatsApp counts otherwise than we do
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.reply(reference, "kari", LOS_REPLY)
    assert await channel.push_pending() == 1 and waiting(offline_app) == []
    responses = await fake.post_statuses()
    assert responses and all(r.status_code == 200 for r in responses)
    assert waiting(offline_app) == [LOS_REPLY]  # back in the outbox
    clock.advance(minutes=1)
    await channel.push_pending()
    assert fake.to(PARENT)[-1]["type"] == "template"


async def test_a_131047_in_the_answer_closes_the_window_and_the_template_goes(
    whatsapp: Fixture, offline_app: App, clock: FakeClock
) -> None:
    fake, channel = whatsapp
    reference = await anonymous_question_to_the_los(fake, offline_app)
    fake.last_inbound[PARENT] -= 25 * 3600
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.reply(reference, "kari", LOS_REPLY)
    await channel.push_pending()
    assert [code for code, _ in fake.refused] == [131047] and waiting(offline_app) == [LOS_REPLY]
    await channel.push_pending()
    assert fake.to(PARENT)[-1]["type"] == "template" and waiting(offline_app) == [LOS_REPLY]


async def test_delivery_statuses_are_logged_without_numbers_or_words(
    whatsapp: Fixture, caplog: pytest.LogCaptureFixture
) -> None:
    fake, _ = whatsapp
    caplog.set_level(logging.INFO)
    await fake.user_says(PARENT, "hvor er helsestasjonen?")
    responses = await fake.post_statuses()
    assert responses and all(r.status_code == 200 for r in responses)
    statuses = [r.getMessage() for r in caplog.records if "status=" in r.getMessage()]
    assert any("status=sent ref=outbox-" in s for s in statuses)
    assert any("status=delivered ref=outbox-" in s for s in statuses)
    assert PARENT not in caplog.text and "hvor er" not in caplog.text


async def test_a_crisis_message_on_whatsapp_gets_the_emergency_numbers(
    whatsapp: Fixture, offline_app: App
) -> None:
    fake, _ = whatsapp
    await fake.user_says(PARENT, "jeg vil ikke leve lenger")
    first = fake.texts_to(PARENT)[0]
    assert re.search(r"\b113\b", first) and re.search(r"\b112\b", first)
    [item] = offline_app.queue.open_cases("kari")
    assert item.priority == "urgent" and item.channel == "whatsapp"
    assert any(item.reference in text for text in fake.texts_to(PARENT))


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("image", {"mime_type": "image/jpeg", "sha256": "x", "id": "m1", "caption": "se her"}),
        (
            "audio",
            {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "m2", "voice": True},
        ),
        ("document", {"filename": "brev.pdf", "mime_type": "application/pdf", "id": "m3"}),
        ("location", {"latitude": 60.39, "longitude": 5.32}),
        ("sticker", {"mime_type": "image/webp", "sha256": "x", "id": "m4", "animated": False}),
    ],
)
async def test_an_image_or_other_media_gets_a_clear_line_and_its_words_are_kept(
    whatsapp: Fixture, offline_app: App, kind: str, content: dict[str, object]
) -> None:
    fake, _ = whatsapp
    await fake.user_sends(PARENT, kind, content)
    assert "kan bare lese tekst" in fake.texts_to(PARENT)[-1]
    caption = content.get("caption")
    assert inbound(offline_app) == [(f"[{kind}] {caption}" if caption else f"[{kind}]", kind)]


async def test_a_crisis_in_a_caption_is_heard(whatsapp: Fixture) -> None:
    fake, _ = whatsapp
    await fake.user_sends(PARENT, "image", {"id": "m9", "caption": "jeg vil ikke leve lenger"})
    assert any(re.search(r"\b113\b", t) for t in fake.texts_to(PARENT))


async def test_the_api_down_the_reply_waits_in_the_outbox_and_goes_later(
    whatsapp: Fixture, offline_app: App, clock: FakeClock
) -> None:
    fake, channel = whatsapp
    fake.fail_sends(502)
    await fake.user_says(PARENT, "hvor er helsestasjonen?")
    assert fake.sent == [] and len(waiting(offline_app)) == 1
    assert await channel.push_pending() == 0  # postponed: not before its back-off
    clock.advance(seconds=30)
    assert await channel.push_pending() == 1
    assert waiting(offline_app) == [] and len(fake.sent) == 1
    assert "55 10 20 01" in fake.texts_to(PARENT)[0]
    clock.advance(seconds=30)
    assert await channel.push_pending() == 0 and len(fake.sent) == 1


async def test_a_retry_after_our_answer_failed_sends_the_waiting_answer_once(
    whatsapp: Fixture, offline_app: App, clock: FakeClock
) -> None:
    fake, channel = whatsapp
    fake.fail_sends(500)
    wamid = await fake.user_says(PARENT, "hvor er helsestasjonen?")
    assert fake.sent == []
    clock.advance(seconds=30)
    assert (await fake.retry(wamid)).status_code == 200  # not handled again; what waits goes
    await channel.push_pending()
    assert len(fake.sent) == 1 and "55 10 20 01" in fake.texts_to(PARENT)[0]
    assert waiting(offline_app) == [] and inbound(offline_app) == [
        ("hvor er helsestasjonen?", None)
    ]


async def test_a_wrong_token_keeps_the_reply(whatsapp: Fixture, offline_app: App) -> None:
    fake, _ = whatsapp
    fake.token = "rotated"
    await fake.user_says(PARENT, "hei")
    assert fake.sent == [] and len(waiting(offline_app)) == 1


async def test_a_whatsapp_conversation_runs_end_to_end_from_question_to_a_los_reply(
    whatsapp: Fixture, offline_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake, channel = whatsapp
    words = "Sønnen min på 8 år gråter hver morgen før skolen og vil ikke gå."
    await fake.user_says(PARENT, "hei")
    await tap(fake, "person")
    await tap(fake, "about:child")
    await tap(fake, "age:6-12")
    consent = fake.to(PARENT)[-1]  # long choices: a list, each row's whole label below it
    rows = consent["interactive"]["action"]["sections"][0]["rows"]
    assert rows[0] == {
        "id": "consent:services",
        "title": "Ja, losen kan ta med…",
        "description": "Ja, losen kan ta med tjenestene vi trenger",
    }
    assert [r["title"] for r in rows[1:]] == [
        "Ja, men bare…",
        "Nei",
        "Spør anonymt i stedet",
        "Avbryt",
    ]
    await tap(fake, "consent:services")
    await tap(fake, "strengths:skip")
    await fake.user_says(PARENT, words)
    await tap(fake, "done")
    await tap(fake, "contact:call")
    await fake.user_says(PARENT, "98 76 54 32, etter kl 15")
    await tap(fake, "confirm:send")
    assert fake.refused == []
    reference = re.search(r"K-[A-Z0-9]{6}", fake.texts_to(PARENT)[-1])
    assert reference is not None

    [item] = offline_app.queue.open_cases("kari")
    assert item.reference == reference[0] and item.channel == "whatsapp"
    assert item.consent_scope == "familielos+services" and not item.anonymous
    assert offline_app.queue.claim(item.reference, "kari")
    assert offline_app.queue.view(item.reference, "kari").description == [words]
    offline_app.queue.reply(item.reference, "kari", LOS_REPLY)
    assert await channel.push_pending() == 1
    assert fake.texts_to(PARENT)[-1] == LOS_REPLY
    await fake.user_says(PARENT, "Takk, det passer fint.")  # relayed to the los, bot quiet
    assert fake.texts_to(PARENT)[-1] == LOS_REPLY
    assert [m[2] for m in offline_app.queue.view(item.reference, "kari").messages] == [
        LOS_REPLY,
        "Takk, det passer fint.",
    ]
    assert PARENT not in caplog.text and "gråter" not in caplog.text


def test_choices_that_fit_no_interactive_shape_are_numbered_across_the_messages() -> None:
    first = Outbound("Velg en:", "nb", (Button("Ja", "yes"), Button("Nei", "no")))
    long_titles = tuple(
        Button(f"Et svært langt valg nummer {n} av mange, lenger enn en rad i en liste kan ha", f"c{n}")
        for n in range(3)
    )
    second = Outbound("Eller:", "nb", long_titles)
    many = Outbound("Tjenester:", "nb", tuple(Button(f"T{n}", f"t{n}") for n in range(12)))
    rendered = as_whatsapp([first, second, many])
    assert rendered[0] == first  # reply buttons
    assert rendered[1].buttons == () and "3. Et svært langt valg nummer 0" in rendered[1].text
    assert (
        rendered[2].buttons == () and "6. T0" in rendered[2].text and "17. T11" in rendered[2].text
    )


def test_long_texts_are_split_and_the_buttons_go_with_a_short_enough_body() -> None:
    text = ("Ord " * 1500).strip()  # 5999 characters
    payloads = message_payloads(Outbound(text, "nb", (Button("Ja", "yes"),)), "Velg")
    assert [p["type"] for p in payloads] == ["text", "text", "interactive"]
    assert all(len(p["text"]["body"]) <= 4096 for p in payloads[:2])
    assert len(payloads[2]["interactive"]["body"]["text"]) <= 1024
    joined = " ".join([*(p["text"]["body"] for p in payloads[:2]), "x"])
    assert joined.count("Ord") + payloads[2]["interactive"]["body"]["text"].count("Ord") == 1500
    plain = message_payloads(Outbound(text, "nb"), "Velg")
    assert [len(p["text"]["body"]) <= 4096 for p in plain] == [True, True]


async def test_whatsapp_is_off_unless_enabled_and_stops_without_its_secrets(
    offline_app: App,
) -> None:
    assert offline_app.settings.whatsapp.enabled is False
    assert _start_whatsapp(offline_app, {}) is None
    enabled = offline_app.settings.model_copy(
        update={
            "whatsapp": offline_app.settings.whatsapp.model_copy(
                update={"enabled": True, "phone_number_id": "123"}
            ),
            "whatsapp_token": "t",
        }
    )
    offline_app.settings = enabled
    with pytest.raises(SystemExit, match="WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN"):
        _start_whatsapp(offline_app, {})


def test_whatsapp_secrets_in_the_file_are_refused_and_the_number_id_is_needed(
    tmp_path: Path,
) -> None:
    data = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    path = tmp_path / "config.yml"
    data["whatsapp"]["token"] = "EAAG..."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"whatsapp\.token: .*WHATSAPP_TOKEN"):
        load_settings(path, env={})
    del data["whatsapp"]["token"]
    data["whatsapp"]["enabled"] = True
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="phone_number_id is required"):
        load_settings(path, env={})
    data["whatsapp"]["phone_number_id"] = "1098765432"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = load_settings(path, env={"WHATSAPP_TOKEN": "t", "WHATSAPP_APP_SECRET": "s"})
    assert settings.whatsapp.enabled and settings.whatsapp_token == "t"
    assert "'t'" not in repr(settings) and settings.whatsapp_verify_token is None
