"""Exactly-once delivery on pushing channels, and the supervised background loops."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, select

from bot.app import App
from bot.channels.delivery import Deliverer, SupervisedLoop, Undelivered
from bot.store.db import engine_of
from bot.store.models import Conversation, Outbox
from bot.web import create_web_app
from flows.types import Outbound
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import eventually

CHANNEL = "telegram"


class Parts:
    """A channel whose messages are split at "|"; fails the parts it is told to, once each."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.fail: set[str] = set()
        self.blocked = False

    async def send(self, message: Outbound, start: int, key: str | None = None) -> None:
        parts = message.text.split("|")
        for index in range(start, len(parts)):
            if self.blocked:
                raise Undelivered("Forbidden", parts_done=index, blocked=True)
            if parts[index] in self.fail:
                self.fail.discard(parts[index])
                raise Undelivered("NetworkError", parts_done=index)
            self.sent.append(parts[index])


def conversation(app: App, user: str = "42") -> str:
    address = app.router.address(CHANNEL, user)
    app.store.record_inbound(CHANNEL, address, "hei", None, "nb")
    return address


def outbox(app: App) -> list[tuple[str, int, bool]]:
    with app.store.sessions() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
        return [(r.text, r.attempts, r.delivered_at is not None) for r in rows]


async def test_a_message_cut_short_goes_on_from_the_part_that_failed(
    offline_app: App, clock: FakeClock
) -> None:
    address = conversation(offline_app)
    channel = Parts()
    channel.fail = {"b2"}
    deliverer = Deliverer(offline_app.store, CHANNEL)
    fresh = [Outbound("a1|a2", "nb"), Outbound("b1|b2|b3", "nb"), Outbound("c1", "nb")]
    assert await deliverer.deliver(address, channel.send, fresh) == 1
    assert channel.sent == ["a1", "a2", "b1"]
    assert outbox(offline_app) == [("b1|b2|b3", 1, False), ("c1", 1, False)]
    assert offline_app.store.pending_pushes(CHANNEL) == []  # postponed: not due yet
    clock.advance(seconds=5)
    assert offline_app.store.pending_pushes(CHANNEL) == [(address, None)]
    assert await deliverer.deliver(address, channel.send) == 2
    assert channel.sent == ["a1", "a2", "b1", "b2", "b3", "c1"]  # b1 not twice
    assert [delivered for _, _, delivered in outbox(offline_app)] == [True, True]
    assert await deliverer.deliver(address, channel.send) == 0


async def test_what_waits_goes_before_the_fresh_answer_even_when_postponed(
    offline_app: App,
) -> None:
    address = conversation(offline_app)
    store = offline_app.store
    [waiting_id] = store.enqueue(
        CHANNEL,
        address,
        [Outbound("los", "nb", sender="los")],
        attempts=1,
        retry_after=timedelta(minutes=5),
    )
    assert store.pending(CHANNEL, address, due_only=False).ids == (waiting_id,)
    channel = Parts()
    deliverer = Deliverer(store, CHANNEL)
    assert await deliverer.deliver(address, channel.send, [Outbound("svar", "nb")]) == 2
    assert channel.sent == ["los", "svar"]
    assert outbox(offline_app) == [("los", 1, True)]


async def test_a_blocked_chat_keeps_everything_and_is_not_pushed_to(offline_app: App) -> None:
    address = conversation(offline_app)
    store = offline_app.store
    store.enqueue(CHANNEL, address, [Outbound("los", "nb", sender="los")])
    store.set_push_address(CHANNEL, address, "42")
    channel = Parts()
    channel.blocked = True
    deliverer = Deliverer(store, CHANNEL)
    assert await deliverer.deliver(address, channel.send, [Outbound("svar", "nb")]) == 0
    assert outbox(offline_app) == [("los", 0, False), ("svar", 1, False)]
    with store.sessions() as session:
        assert session.scalars(select(Conversation.unreachable)).one() is True
    assert store.pending_pushes(CHANNEL) == []
    store.mark_unreachable(CHANNEL, address, False)  # the citizen writes again
    channel.blocked = False
    assert await deliverer.deliver(address, channel.send) == 2
    assert channel.sent == ["los", "svar"]


def test_a_citizen_writing_again_takes_no_write_lock_when_nothing_changes(
    offline_app: App,
) -> None:
    """Every message clears the unreachable mark; almost always there is none, and then it
    only reads (an UPDATE takes SQLite's one write lock even when it matches no row)."""
    address = conversation(offline_app)
    store = offline_app.store
    statements: list[str] = []
    engine = engine_of(store.sessions)

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        store.mark_unreachable(CHANNEL, address, False)
        assert "UPDATE" not in statements and statements == ["SELECT"]
        store.mark_unreachable(CHANNEL, address, True)  # the platform refused delivery
        store.mark_unreachable(CHANNEL, address, True)  # again: nothing to change
        assert statements.count("UPDATE") == 1
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with store.sessions() as session:
        assert session.scalars(select(Conversation.unreachable)).one() is True
    store.mark_unreachable(CHANNEL, address, False)
    with store.sessions() as session:
        assert session.scalars(select(Conversation.unreachable)).one() is False


def test_a_citizen_writing_again_is_reachable_in_the_same_commit_as_the_message(
    offline_app: App,
) -> None:
    """Recording the message clears the mark (one round trip to the store, not two); a
    repeated message (a duplicate) leaves everything as it was; a reachable citizen's
    message writes nothing but the message."""
    address = conversation(offline_app)
    store = offline_app.store
    store.mark_unreachable(CHANNEL, address, True)
    store.record_inbound(CHANNEL, address, "hei igjen", "m-1", "nb")
    with store.sessions() as session:
        assert session.scalars(select(Conversation.unreachable)).one() is False
    store.mark_unreachable(CHANNEL, address, True)
    assert store.record_inbound(CHANNEL, address, "hei igjen", "m-1", "nb").duplicate
    with store.sessions() as session:
        assert session.scalars(select(Conversation.unreachable)).one() is True
    store.record_inbound(CHANNEL, address, "og igjen", "m-2", "nb")
    statements: list[str] = []
    engine = engine_of(store.sessions)

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        store.record_inbound(CHANNEL, address, "en gang til", "m-3", "nb")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # the conversation, with whether the id was seen and whether a message waits (the
    # drain's first read); the message
    assert statements == ["SELECT", "INSERT"]


async def test_a_step_without_effects_does_not_load_its_conversation_again(
    offline_app: App,
) -> None:
    """A step's effects (a case, consent, ...) get the conversation in the step's
    transaction; a step without any (most) saves its state and replies without it."""
    from flows.types import Inbound

    selected: list[str] = []
    engine = engine_of(offline_app.store.sessions)

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        flat = " ".join(statement.split())
        if flat.startswith("SELECT conversations.id AS conversations_id"):
            selected.append(flat.rsplit("WHERE", 1)[-1].strip())

    await offline_app.router.handle(Inbound("jsonl", "u", "hei"))  # the conversation is created
    event.listen(engine, "before_cursor_execute", seen)
    try:
        handled = await offline_app.router.handle(Inbound("jsonl", "u", "hvor er helsestasjonen?"))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert handled.topic == "helsestasjon"
    assert not any(where.startswith("conversations.id = ") for where in selected), selected


async def test_a_supervised_loop_survives_failures_and_logs_only_their_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("SELECT ... 'jeg vil ikke leve'")

    caplog.set_level(logging.WARNING)
    loop = SupervisedLoop("test", step, 0.01, backoff_max_s=0.05).start()
    try:
        await eventually(lambda: loop.last_ok is not None, timeout=5)
        health = loop.health()
        assert health["ok"] is True and health["failures"] == 0 and loop.alive
    finally:
        await loop.stop()
    assert "RuntimeError" in caplog.text and "leve" not in caplog.text
    assert loop.health()["ok"] is False and loop.health()["alive"] is False


async def test_a_loop_that_has_not_completed_a_run_for_30_s_is_not_ok() -> None:
    now = [100.0]

    async def never_finishes() -> None:
        raise TimeoutError

    loop = SupervisedLoop("x", never_finishes, 0.01, backoff_max_s=0.02, clock=lambda: now[0])
    loop.start()
    try:
        assert loop.health()["ok"] is True  # just started
        now[0] += 31
        assert loop.health()["ok"] is False
    finally:
        await loop.stop()


async def test_readyz_shows_a_dead_or_failing_loop_with_503_and_healthz_stays_alive(
    offline_app: App,
) -> None:
    async def fine() -> None:
        return None

    async def broken() -> None:
        raise ConnectionError("database unreachable")

    web = create_web_app(offline_app)
    pending = SupervisedLoop("pending", fine, 0.01).start()
    telegram = SupervisedLoop("telegram", fine, 0.01).start()
    sms = SupervisedLoop("sms", broken, 0.01, backoff_max_s=0.02).start()
    web.state.loops = {"telegram": telegram, "sms": sms, "pending": pending}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang"
    ) as client:
        await eventually(lambda: pending.last_ok is not None and telegram.last_ok is not None)
        await eventually(lambda: sms.failures > 0)
        healthy = await client.get("/readyz")
        assert healthy.status_code == 200, healthy.json()  # failing, but not yet for 30 s
        assert healthy.json()["loops"]["sms"]["error"] == "ConnectionError"
        await telegram.stop()  # a dead loop
        dead = await client.get("/readyz")
        assert dead.status_code == 503
        body = dead.json()
        assert body["ready"] is False and body["loops"]["telegram"]["alive"] is False
        assert body["database"] is True
        assert body["loops"]["pending"]["ok"] is True and "last_run_s_ago" in body["loops"]["pending"]
        alive = await client.get("/healthz")  # alive means the process answers, no more
        assert alive.status_code == 200 and alive.json() == {"alive": True}
    await pending.stop()
    await sms.stop()
