"""A pooled PostgreSQL connection is asked whether it is alive only after lying idle: one in
use a moment ago is taken as it is, one the server dropped while idle is replaced before any
statement fails, and one dropped within the window fails once and the store's caller gets a
working connection on its retry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from bot.store.db import ping_when_idle
from tests.conftest import fresh_postgres_url
from tests.ticks import Ticks

pytestmark = pytest.mark.postgres




@pytest.fixture
def clock() -> Ticks:
    return Ticks()


@pytest.fixture
def engine(clock: Ticks) -> Iterator[Engine]:
    engine = create_engine(fresh_postgres_url(), hide_parameters=True, pool_size=1)
    ping_when_idle(engine, idle_s=2.0, clock=clock)
    yield engine
    engine.dispose()


def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return seen


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def drop_connection(engine: Engine, pid: int) -> None:
    """What a server restart or a firewall does to an idle connection."""
    killer = create_engine(str(engine.url.render_as_string(hide_password=False)))
    with killer.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(
    engine: Engine, clock: Ticks, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = pings(engine, monkeypatch)
    first = backend_pid(engine)  # a fresh connection: nothing to ask
    for _ in range(5):
        clock.now += 0.5
        assert backend_pid(engine) == first
    assert seen == []
    clock.now += 2.0
    assert backend_pid(engine) == first  # idle long enough: asked, and alive
    assert len(seen) == 1


def test_a_connection_dropped_while_idle_is_replaced_before_a_statement_fails(
    engine: Engine, clock: Ticks, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = backend_pid(engine)
    drop_connection(engine, dropped)
    clock.now += 5.0
    seen = pings(engine, monkeypatch)
    assert backend_pid(engine) != dropped  # no error: a new connection
    assert len(seen) == 1


def test_a_connection_dropped_within_the_window_fails_once_then_is_replaced(
    engine: Engine, clock: Ticks
) -> None:
    dropped = backend_pid(engine)
    drop_connection(engine, dropped)
    clock.now += 0.5
    with pytest.raises(OperationalError) as failed:
        backend_pid(engine)
    assert failed.value.connection_invalidated
    assert backend_pid(engine) != dropped  # the caller's retry works
