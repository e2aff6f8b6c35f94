"""What a citizen waits on overlaps where it may: Rasa reads a message while it is being
recorded, and nothing of its answer leaves (nor any effect happens) before the recording has
committed; a crash in between loses nothing. A message takes four trips to the store's
threads (record, context, save), and one recorded meanwhile by another worker is still
handled, in order."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import select

from bot.app import App
from bot.store.models import Message, Outbox
from flows.types import Inbound
from nlu.rasa_client import ParsedIntent, RasaReading
from tests.fakes.telegram_api import eventually

QUESTION = "hvor er helsestasjonen?"


class GatedRasa:
    """A Rasa server that answers (the health station, surely) only once let through, and
    notes what it was asked, from whichever thread looks."""

    def __init__(self, *, open_gate: bool = True) -> None:
        self.asked: list[str] = []
        self.arrived = threading.Event()
        self.gate = asyncio.Event()
        if open_gate:
            self.gate.set()

    async def read(self, text: str, sent: asyncio.Event | None = None) -> RasaReading:
        self.asked.append(text)
        self.arrived.set()
        if sent is not None:
            sent.set()  # the request has left
        await self.gate.wait()
        return RasaReading(ParsedIntent("svc_helsestasjon", 0.99))


@pytest.fixture
def rasa(any_app: App, monkeypatch: pytest.MonkeyPatch) -> GatedRasa:
    """The offline app with a Rasa server that answers when the test lets it."""
    fake = GatedRasa(open_gate=False)
    monkeypatch.setattr(any_app.understander, "rasa", fake)
    return fake


async def test_rasa_reads_the_message_while_it_is_being_recorded(
    any_app: App, rasa: GatedRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa.gate.set()
    store = any_app.store
    record = store.record_inbound
    asked_before_commit: list[bool] = []

    def recording(*args: object, **kwargs: object) -> object:
        # On the store's thread, before the commit: Rasa has the text already (the bound
        # only keeps a broken overlap from hanging the test).
        asked_before_commit.append(rasa.arrived.wait(timeout=10))
        return record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "record_inbound", recording)
    handled = await any_app.router.handle(Inbound("web", "visitor", QUESTION))
    assert asked_before_commit == [True]
    assert handled.topic == "helsestasjon"  # Rasa's answer, not the offline matcher's
    assert rasa.asked == [QUESTION]  # asked once: the step took the reading on its way


async def test_a_crash_while_rasa_reads_loses_nothing_and_sends_nothing(
    any_app: App, rasa: GatedRasa
) -> None:
    router, store = any_app.router, any_app.store
    request = asyncio.create_task(router.handle(Inbound("sms", "+4790000001", QUESTION)))
    await eventually(lambda: rasa.asked and store.unhandled_inbound())
    [(_, message_id)] = store.unhandled_inbound()  # on disk before any answer
    request.cancel()  # the process dies while Rasa reads
    with pytest.raises(asyncio.CancelledError):
        await request
    assert store.handled(message_id).replies == ()
    with store.sessions() as session:
        assert session.scalars(select(Outbox)).all() == []  # nothing was to be sent

    rasa.gate.set()  # the restarted process finds the message and answers it, once
    await any_app.understander.settled()
    assert await router.recover_unhandled() == 1
    assert await router.recover_unhandled() == 0
    replies = store.handled(message_id)
    assert replies.answered and replies.topic == "helsestasjon"
    with store.sessions() as session:
        queued = session.scalars(select(Outbox.reply_to)).all()
    assert queued and set(queued) == {message_id}
    assert len(queued) == len(replies.replies)


async def test_a_message_takes_four_trips_to_the_store(
    any_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording, the look under the conversation's lock at what waits first, the step's
    context (one session) and saving the step, which says what waits next: the store is not
    asked again after it."""
    store = any_app.store
    run = store.run
    trips: list[str] = []

    async def counting(work: object, *args: object, **kwargs: object) -> object:
        trips.append(getattr(work, "__name__", repr(work)))
        return await run(work, *args, **kwargs)  # type: ignore[arg-type]

    await any_app.router.handle(Inbound("web", "visitor", "hei"))
    monkeypatch.setattr(store, "run", counting)
    handled = await any_app.router.handle(Inbound("web", "visitor", QUESTION))
    assert handled.topic == "helsestasjon"
    assert sorted(trips) == ["_step_context", "next_unhandled", "record_inbound", "save_step"]


async def test_a_message_recorded_meanwhile_by_another_worker_is_handled_in_order(
    any_app: App, rasa: GatedRasa
) -> None:
    router, store = any_app.router, any_app.store
    first = asyncio.create_task(router.handle(Inbound("web", "visitor", QUESTION)))
    await eventually(lambda: rasa.asked)
    # Another replica records the same visitor's next message while the first is read.
    address = router.address("web", "visitor")
    later = store.record_inbound("web", address, "og barnevernet?", None, "nb")
    rasa.gate.set()
    handled = await first
    assert handled.topic == "helsestasjon"
    assert store.handled(later.message_id).answered  # not left for the next poll
    with store.sessions() as session:
        inbound = session.scalars(
            select(Message).where(Message.direction == "in").order_by(Message.id)
        ).all()
        replies = session.scalars(
            select(Message.reply_to).where(Message.direction == "out").order_by(Message.id)
        ).all()
    assert [m.handled_at is not None for m in inbound] == [True, True]
    answered = [reply_to or 0 for reply_to in replies]
    assert answered == sorted(answered)  # the first message's replies before the later's
    assert set(answered) == {inbound[0].id, inbound[1].id}
