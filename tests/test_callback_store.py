"""Callback slots in the store, on SQLite and on PostgreSQL (when INNGANG_TEST_POSTGRES_URL is
set): of two families booking the last free slot at once exactly one gets it; the reminder
job run by two workers at once reminds once; a slot published twice is one slot; old slots
go with retention; the migration makes the table the model describes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.callback_jobs import CallbackJobs
from bot.callback_times import generated
from bot.store.callbacks import Callbacks, SlotTaken, book, free_starts
from bot.store.db import alembic_config, make_engine
from bot.store.enums import CaseStatus, Direction
from bot.store.jobs import JobGate
from bot.store.models import Base, CallbackSlot, Case, Conversation, Message
from bot.store.retention import run_retention
from flows.callback import REMINDER, event_for
from tests.fakes.clock import FakeClock

THU_1030 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # Thursday 10:30 in Oslo


def a_case(app: App, reference: str, with_conversation: bool = True) -> int:
    """A case (and its conversation) as the intake leaves it."""
    now = app.router.clock()
    with app.store.sessions.begin() as session:
        conversation_id = None
        if with_conversation:
            conversation = Conversation(
                channel="jsonl",
                address_hash=f"hash-{reference}",
                handle=f"h-{reference}",
                language="pl",
                created_at=now,
                updated_at=now,
            )
            session.add(conversation)
            session.flush()
            conversation_id = conversation.id
        case = Case(
            reference=reference,
            conversation_id=conversation_id,
            channel="jsonl",
            status=CaseStatus.OPEN,
            language="pl",
            contact="call",
            callback="98 76 54 32",
            callback_when="slot",
            created_at=now,
        )
        session.add(case)
        session.flush()
        return case.id


def book_at_once(app: App, case_ids: list[int], moment: datetime) -> list[str]:
    """Every case books the slot at ``moment`` at the same instant, each in its own thread."""
    outcomes: list[str] = []
    barrier = threading.Barrier(len(case_ids))

    def attempt(case_id: int) -> None:
        barrier.wait()
        try:
            with app.store.sessions.begin() as session:
                case = session.get_one(Case, case_id)
                book(session, case, moment, app.router.clock())
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=attempt, args=(c,)) for c in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_families_booking_the_last_free_slot_at_once_one_gets_it(any_app: App) -> None:
    calls = Callbacks(any_app.store.sessions, any_app.router.clock)
    assert calls.publish("kari", [THU_1030], 30) == 1
    first, second = a_case(any_app, "K-AAAAA2"), a_case(any_app, "K-BBBBB3")
    assert book_at_once(any_app, [first, second], THU_1030) == ["booked", "taken"]
    [call] = calls.between(THU_1030, THU_1030 + timedelta(minutes=1))
    assert call.reference in ("K-AAAAA2", "K-BBBBB3")
    now = any_app.router.clock()
    with any_app.store.sessions() as session:
        assert free_starts(session, now, now + timedelta(days=7)) == []  # no longer offered


def test_two_los_at_the_same_time_are_two_slots_and_each_holds_one_call(any_app: App) -> None:
    calls = Callbacks(any_app.store.sessions, any_app.router.clock)
    calls.publish("kari", [THU_1030], 30)
    assert calls.publish("kari", [THU_1030], 30) == 0  # published twice: one slot
    calls.publish("ahmed", [THU_1030], 30)
    cases = [a_case(any_app, "K-AAAAA2"), a_case(any_app, "K-BBBBB3"), a_case(any_app, "K-CCCCC4")]
    assert book_at_once(any_app, cases, THU_1030) == ["booked", "booked", "taken"]


def test_the_reminder_job_reminds_once_when_two_workers_run_it_at_once(
    any_app: App, clock: FakeClock
) -> None:
    calls = Callbacks(any_app.store.sessions, clock)
    calls.publish("kari", [THU_1030], 30)
    case_id = a_case(any_app, "K-AAAAA2")
    with any_app.store.sessions.begin() as session:
        book(session, session.get_one(Case, case_id), THU_1030, clock())
    jobs = CallbackJobs(any_app.settings.callbacks, calls, any_app.router.schedule, clock)
    assert jobs.remind() == 0  # two days before: not yet
    clock.now = THU_1030 - timedelta(minutes=25)

    runs: list[int | None] = []
    barrier = threading.Barrier(2)
    gated = any_app.store.sessions.kw["bind"].dialect.name == "postgresql"

    def worker() -> None:  # two replicas' ticks; on PostgreSQL through the advisory lock too
        gate = JobGate(any_app.store.sessions, clock)
        barrier.wait()
        if gated:
            runs.append(gate.run_due("callback_reminders", timedelta(seconds=24), jobs.remind))
        else:  # SQLite serves one process: the claim alone must keep it to one
            runs.append(jobs.remind())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r or 0 for r in runs) == 1
    clock.advance(minutes=1)
    assert jobs.remind() == 0  # never twice
    with any_app.store.sessions() as session:
        events = session.scalars(
            select(Message.button).where(Message.direction == Direction.EVENT)
        ).all()
    assert events == [event_for(REMINDER, "K-AAAAA2")]


def test_no_reminder_for_a_closed_case_or_a_call_already_made(
    offline_app: App, clock: FakeClock
) -> None:
    calls = Callbacks(offline_app.store.sessions, clock)
    later = THU_1030 + timedelta(hours=1)
    calls.publish("kari", [THU_1030, later], 30)
    closed, made = a_case(offline_app, "K-AAAAA2"), a_case(offline_app, "K-BBBBB3")
    with offline_app.store.sessions.begin() as session:
        book(session, session.get_one(Case, closed), THU_1030, clock())
        book(session, session.get_one(Case, made), later, clock())
        session.get_one(Case, closed).status = CaseStatus.CLOSED
    [call] = [c for c in calls.between(later, later + timedelta(minutes=1))]
    calls.mark_done(call.slot_id, "kari")
    for moment in (THU_1030, later):
        clock.now = moment - timedelta(minutes=10)
        assert calls.remind(timedelta(minutes=30)) == 0


def test_retention_deletes_slots_past_keep_days_and_a_deleted_case_frees_its_slot(
    offline_app: App, clock: FakeClock
) -> None:
    calls = Callbacks(offline_app.store.sessions, clock)
    calls.publish("kari", [THU_1030], 30)
    case_id = a_case(offline_app, "K-AAAAA2", with_conversation=False)
    with offline_app.store.sessions.begin() as session:
        book(session, session.get_one(Case, case_id), THU_1030, clock())
    with offline_app.store.sessions.begin() as session:  # e.g. erasure: the case goes
        session.delete(session.get_one(Case, case_id))
    [free] = calls.between(THU_1030, THU_1030 + timedelta(minutes=1))
    assert free.reference is None
    clock.now = THU_1030 + timedelta(days=offline_app.settings.callbacks.keep_days + 1)
    run_retention(offline_app.settings, offline_app.store.sessions, clock)
    with offline_app.store.sessions() as session:
        assert session.scalars(select(CallbackSlot)).all() == []


def test_the_generated_slots_follow_opening_hours_roster_and_holidays(
    offline_app: App, clock: FakeClock
) -> None:
    calls = Callbacks(offline_app.store.sessions, clock)
    rules = offline_app.settings.callbacks.model_copy(update={"generate": True, "days_ahead": 7})
    jobs = CallbackJobs(rules, calls, offline_app.router.schedule, clock)
    made = jobs.generate()
    assert made > 0 and jobs.generate() == 0  # once
    schedule = offline_app.router.schedule
    starts = [c.starts_at for c in calls.between(clock(), clock() + timedelta(days=8))]
    assert all(schedule.is_open(s) for s in starts)
    local_days = {schedule.local(s).date().isoformat() for s in starts}
    assert "2026-11-28" not in local_days and "2026-11-29" not in local_days  # the weekend
    assert min(starts) > clock()
    christmas = generated(schedule, rules, datetime(2026, 12, 23, 12, 0, tzinfo=UTC))
    christmas_days = {schedule.local(s).date().isoformat() for s in christmas}
    assert "2026-12-24" in christmas_days  # a Thursday, open
    assert not christmas_days & {"2026-12-25", "2026-12-26"}  # public holidays


def test_the_migration_makes_the_table_the_model_describes(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'calls.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "callback" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0017d")
    command.upgrade(alembic_config(engine), "head")
