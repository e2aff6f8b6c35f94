"""The production path on a real PostgreSQL (CI starts one; set INNGANG_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import App, build_app
from bot.store.db import make_engine
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.journey import claim_concurrently
from tests.test_journeys import parent_sends_a_case

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    url = os.environ.get("INNGANG_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide INNGANG_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("no PostgreSQL here; set INNGANG_TEST_POSTGRES_URL")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield build_app(
        app_settings(tmp_path, database_url=url), clock=clock, secret_file=tmp_path / "secret.key"
    )


async def test_migrations_and_a_whole_case_on_postgres(postgres_app: App) -> None:
    parent, reference = await parent_sends_a_case(postgres_app)
    assert postgres_app.queue.claim(reference, "kari")
    postgres_app.queue.reply(reference, "kari", "Hei fra PostgreSQL")
    assert parent.inbox()[-1] == "Hei fra PostgreSQL"
    postgres_app.queue.close(reference, "kari", "ok")
    await parent.says("", button="cmd:delete")
    await parent.says("", button="delete:yes")
    assert postgres_app.queue.open_cases("kari") == []


async def test_concurrent_claims_on_postgres_have_one_winner(postgres_app: App) -> None:
    _, reference = await parent_sends_a_case(postgres_app)
    results = claim_concurrently(postgres_app, reference, ("kari", "ahmed", "kari", "ahmed"))
    assert sorted(results) == [False, False, False, True]
