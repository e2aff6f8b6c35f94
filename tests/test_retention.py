"""Retention really deletes: closed cases after closed_case_days, idle conversations after
anonymous_conversation_days; open cases are kept."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.retention import run_retention
from bot.store.models import Case, Conversation, Message
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.test_journeys import parent_sends_a_case


def count(app: App, model: type) -> int:
    with app.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_closed_cases_and_idle_conversations_are_deleted_in_time(
    offline_app: App, clock: FakeClock
) -> None:
    _, closed = await parent_sends_a_case(offline_app, "closed-family")
    offline_app.queue.claim(closed, "kari")
    offline_app.queue.close(closed, "kari", "ferdig")
    _, still_open = await parent_sends_a_case(offline_app, "open-family")
    await Citizen(offline_app, "just-asked").says("hvor er helsestasjonen?")

    clock.advance(days=29)
    assert run_retention(offline_app.settings, offline_app.store.sessions, clock).cases == 0
    assert count(offline_app, Conversation) == 3

    clock.advance(days=2)  # past 30 days: idle conversations without an open case go
    report = run_retention(offline_app.settings, offline_app.store.sessions, clock)
    assert report.conversations == 2
    with offline_app.store.sessions() as session:
        references = session.scalars(select(Case.reference)).all()
        assert references == [still_open]
        assert (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.text == "hvor er helsestasjonen?")
            )
            == 0
        )
