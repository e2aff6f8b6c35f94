"""Every answer reaches the citizen once: a crash between an answer and its sending loses
nothing, two processes pushing the same outbox never both send a message, and a web chat
retry after a crash does not get the recovered answer twice."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from bot.app import App
from bot.channels.sms import SmsChannel
from bot.identity import message_key
from bot.settings import SmsSettings
from bot.store.models import Outbox
from bot.web import create_web_app
from flows.types import Inbound
from tests.test_sms import NUMBER, SECRET, FakeGateway, deliver

CRISIS = "jeg vil ikke leve lenger"


def sms_channel(app: App, fake: FakeGateway) -> SmsChannel:
    """One process's SMS channel (its own deliverer) on the shared database."""
    return SmsChannel(
        app.router,
        SmsSettings(enabled=True),
        SECRET,
        "api-token",
        transport=httpx.MockTransport(fake.handler),
    )


def waiting(app: App) -> list[str]:
    with app.store.sessions() as session:
        rows = session.scalars(select(Outbox).where(Outbox.delivered_at.is_(None))).all()
        return [r.text for r in rows]


async def test_a_crisis_answer_cut_off_by_a_crash_goes_out_after_the_restart_in_its_sms_form(
    any_app: App,
) -> None:
    # The webhook recorded and answered the message, then the process died before sending.
    handled = await any_app.router.handle(Inbound("sms", NUMBER, CRISIS), external_id="s1")
    assert handled.crisis and handled.queued
    address = any_app.router.address("sms", NUMBER)
    any_app.store.set_push_address("sms", address, NUMBER)
    assert waiting(any_app)  # the answer is on disk, not lost with the process

    fake = FakeGateway()
    restarted = sms_channel(any_app, fake)
    try:
        assert await restarted.push_pending() >= 1
        assert await restarted.push_pending() == 0  # once
    finally:
        await restarted.aclose()
    texts = fake.texts()
    assert "113" in texts[0][:60]  # the short form: the numbers come first
    references = [m["reference"] for m in fake.sent]  # a gateway can drop a repeat by these
    assert all(r.startswith("outbox-") for r in references)
    assert len(set(references)) == len(references)
    assert waiting(any_app) == []


async def test_two_processes_pushing_at_once_send_each_message_once(any_app: App) -> None:
    for n in range(5):
        await any_app.router.handle(Inbound("sms", NUMBER, f"hvor er PPT? {n}"), f"m{n}")
    address = any_app.router.address("sms", NUMBER)
    any_app.store.set_push_address("sms", address, NUMBER)
    expected = len(waiting(any_app))
    fake = FakeGateway()
    one, other = sms_channel(any_app, fake), sms_channel(any_app, fake)
    try:
        sent = await asyncio.gather(one.push_pending(), other.push_pending())
        sent += await asyncio.gather(one.push_pending(), other.push_pending())
    finally:
        await one.aclose()
        await other.aclose()
    assert sum(sent) == expected and waiting(any_app) == []
    firsts = [text for text in fake.texts() if not text.startswith("(") or text[:3] == "(1/"]
    assert len(firsts) == expected  # each message's first part once: none sent twice


async def test_a_gateway_retry_after_a_crash_sends_what_waited_once(any_app: App) -> None:
    await any_app.router.handle(Inbound("sms", NUMBER, "hei"), external_id="s1")  # then died
    fake = FakeGateway()
    channel = sms_channel(any_app, fake)
    web = create_web_app(any_app, sms=channel)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://inngang"
        ) as client:
            replay = await deliver(client, "hei", "s1")  # the gateway retries the webhook
            assert replay.json() == {"status": "duplicate"}
            await deliver(client, "hei", "s1")
    finally:
        await channel.aclose()
    assert fake.texts() and len(fake.texts()) == len(set(fake.texts()))
    assert waiting(any_app) == []


async def test_a_web_chat_retry_after_a_crash_gets_the_recovered_answer_once(
    any_app: App,
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_web_app(any_app)), base_url="http://inngang"
    ) as api:
        first = await api.post("/api/chat", json={"text": "hei", "id": "w1"})
        token = first.json()["token"]
        header = {"X-Chat-Token": token}
        # The next message is recorded, then the server dies; at start-up it is answered.
        address = any_app.router.address("web", token)
        key = message_key(any_app.router.secret, "w2", "hvor er PPT?")
        any_app.store.record_inbound("web", address, "hvor er PPT?", key, "nb")
        assert await any_app.router.recover_unhandled() == 1
        retry = await api.post(
            "/api/chat", json={"text": "hvor er PPT?", "id": "w2"}, headers=header
        )
        answer = [r["text"] for r in retry.json()["replies"]]
        assert any("55 10 20 03" in text for text in answer)  # in the retry's response
        assert (await api.post("/api/poll", headers=header)).json() == {"messages": [], "los_typing": False}


async def test_a_web_message_recorded_by_a_process_that_died_is_answered_to_its_retry(
    any_app: App,
) -> None:
    """Replica A records the message and dies before answering; nginx passes the same request
    (the same message id) to replica B, which must answer it, not return "already had it"
    with nothing (scripts/kill_under_load.py --replicas 2 found a citizen missing an answer)."""
    user, text = "visitor-1", "hvor er helsestasjonen?"
    address = any_app.router.address("web", user)
    key = message_key(any_app.router.secret, "m-1", text, None)
    any_app.store.record_inbound("web", address, text, key, "nb")  # A's last act

    retried = await any_app.router.handle(Inbound("web", user, text), external_id="m-1")
    assert any("55 10 20 01" in reply.text for reply in retried.replies)
    again = await any_app.router.handle(Inbound("web", user, text), external_id="m-1")
    assert again.duplicate and again.replies == retried.replies  # answered once, from record
    assert waiting(any_app) == []  # nothing left to reach her another way
