"""Scheduled jobs run once per tick between all replicas sharing a database: a replica that
finds a job running elsewhere, or run less than a tick ago, skips it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.store.jobs import JobGate
from tests.conftest import app_settings, fresh_postgres_url
from tests.fakes.clock import FakeClock

TICK = timedelta(seconds=25)


def test_a_job_runs_once_per_tick_and_again_when_the_tick_is_over(
    offline_app: App, clock: FakeClock
) -> None:
    first, second = (JobGate(offline_app.store.sessions, clock) for _ in range(2))  # 2 replicas
    runs: list[str] = []
    first.run_due("escalation", TICK, lambda: runs.append("first"))
    second.run_due("escalation", TICK, lambda: runs.append("second"))
    assert runs == ["first"]
    clock.advance(seconds=26)
    second.run_due("escalation", TICK, lambda: runs.append("second"))
    first.run_due("escalation", TICK, lambda: runs.append("first"))
    assert runs == ["first", "second"]
    assert first.last_run("escalation") == clock()


def test_a_job_that_fails_is_tried_again_at_the_next_tick(offline_app: App, clock: FakeClock) -> None:
    gate = JobGate(offline_app.store.sessions, clock)

    def failing() -> None:
        raise RuntimeError("the mail server is down")

    with pytest.raises(RuntimeError):
        gate.run_due("retention", TICK, failing)
    assert gate.last_run("retention") is None
    assert gate.run_due("retention", TICK, lambda: "ran") == "ran"


@pytest.fixture
def postgres_app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    url = fresh_postgres_url()
    yield build_app(
        app_settings(tmp_path, database_url=url), clock=clock, secret_file=tmp_path / "secret.key"
    )


@pytest.mark.postgres
def test_on_postgres_a_replica_skips_a_job_another_is_running(
    postgres_app: App, clock: FakeClock
) -> None:
    running, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def slow() -> None:
        runs.append("first")
        running.set()
        release.wait(10)

    first, second = (JobGate(postgres_app.store.sessions, clock) for _ in range(2))
    worker = threading.Thread(target=first.run_due, args=("escalation", TICK, slow))
    worker.start()
    assert running.wait(10)
    clock.advance(seconds=60)  # due by the clock, but held by the first replica
    assert second.run_due("escalation", TICK, lambda: runs.append("second")) is None
    release.set()
    worker.join(10)
    assert runs == ["first"]
    assert second.run_due("escalation", TICK, lambda: runs.append("second")) is None  # just ran
    clock.advance(seconds=26)
    second.run_due("escalation", TICK, lambda: runs.append("second"))
    assert runs == ["first", "second"]


@pytest.mark.postgres
def test_on_postgres_one_replica_holds_a_role_and_another_takes_it_over_when_it_goes(
    postgres_app: App,
) -> None:
    from bot.store.db import engine_of, make_engine
    from bot.store.jobs import HeldLock

    engine = engine_of(postgres_app.store.sessions)
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))  # replica B
    first, second = HeldLock(engine, "telegram polling"), HeldLock(other_engine, "telegram polling")
    assert first.try_acquire() and first.try_acquire()  # held, and holding again is fine
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()
    other_engine.dispose()


def test_on_sqlite_the_one_process_holds_every_role(offline_app: App) -> None:
    from bot.store.db import engine_of
    from bot.store.jobs import HeldLock

    assert HeldLock(engine_of(offline_app.store.sessions), "telegram polling").try_acquire()
