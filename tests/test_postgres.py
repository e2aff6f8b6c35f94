"""The production path on a real PostgreSQL (CI starts one; set INNGANG_TEST_POSTGRES_URL)."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.app import App, build_app
from bot.store.accounts import StaffAccounts
from flows.types import Inbound
from tests.conftest import app_settings, assert_test_database, fresh_postgres_url
from tests.fakes.clock import FakeClock
from tests.journey import claim_concurrently
from tests.test_journeys import parent_sends_a_case

pytestmark = pytest.mark.postgres


def test_a_database_not_named_for_tests_is_refused() -> None:
    for url in ("postgresql+psycopg://u:p@h/inngang", "postgresql+psycopg://u:p@h/prod_contest"):
        with pytest.raises(pytest.fail.Exception):
            assert_test_database(url)
    assert_test_database("postgresql+psycopg://u:p@h/inngang_test")  # no failure


@pytest.fixture
def postgres_app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    url = fresh_postgres_url()
    yield build_app(
        app_settings(tmp_path, database_url=url), clock=clock, secret_file=tmp_path / "secret.key"
    )


async def test_migrations_and_a_whole_case_on_postgres(postgres_app: App) -> None:
    parent, reference = await parent_sends_a_case(postgres_app)
    assert postgres_app.queue.claim(reference, "kari")
    postgres_app.queue.reply(reference, "kari", "Hei fra PostgreSQL")
    assert (await parent.inbox())[-1] == "Hei fra PostgreSQL"
    postgres_app.queue.close(reference, "kari", "ok")
    await parent.says("", button="cmd:delete")
    await parent.says("", button="delete:yes")
    assert postgres_app.queue.open_cases("kari") == []


async def test_concurrent_claims_on_postgres_have_one_winner(postgres_app: App) -> None:
    _, reference = await parent_sends_a_case(postgres_app)
    results = claim_concurrently(postgres_app, reference, ("kari", "ahmed", "kari", "ahmed"))
    assert sorted(results) == [False, False, False, True]


async def test_on_postgresql_a_message_never_rolls_a_transaction_back(
    postgres_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ROLLBACK makes psycopg forget every statement it prepared on that connection, and
    the step's statement then ran parsed and planned each time (0.55 ms more at the server):
    the reads of a message's path, the pending scan, the content revision and the staff
    accounts run each statement on its own, and nothing a citizen's question does rolls
    back (a step that moved on still does, with its writes)."""
    rolled_back: list[str] = []
    original = psycopg.Connection.rollback

    def rollback(connection: psycopg.Connection[Any]) -> None:
        if connection.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            rolled_back.append("".join(traceback.format_stack(limit=12)))
        original(connection)

    monkeypatch.setattr(psycopg.Connection, "rollback", rollback)
    for user in ("ola", "kari", "per"):
        await postgres_app.router.handle(Inbound("web", user, "hvor er helsestasjonen?"))
    postgres_app.store.unhandled_conversations()
    assert postgres_app.router.content.store is not None
    postgres_app.router.content.store.revision()
    StaffAccounts(postgres_app.store.sessions).all()
    assert rolled_back == [], rolled_back[0]
