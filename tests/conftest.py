"""Shared fixtures: the real config.yml and catalogs, a fixed clock, an app on temp SQLite."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import make_url, text

from bot.app import App, build_app
from bot.i18n import Catalogs
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.store.db import make_engine
from flows.types import FlowContext
from tests.fakes.clock import FakeClock

pytest_plugins = ["tests.console_fixtures", "tests.browser_fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """Browser assertions wait up to 15 s (Playwright's 5 s is short on a loaded 2-core
    machine; a page that is right sooner passes sooner)."""
    try:
        from playwright.async_api import expect
    except ImportError:
        return
    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session", autouse=True)
def shared_nlu_parts() -> Iterator[None]:
    """Every app in the run shares the NLU parts that never change while one runs (the
    lexicon, the language models, the matcher and the danger sense): built once, not for
    each test's app (seconds each)."""
    import functools

    import bot.app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.app, "build_nlu_parts", functools.cache(bot.app.build_nlu_parts))
        yield


DEAD_NLU_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there

hypothesis_settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return matcher_when_down(load_settings(PROJECT_ROOT / "config.yml", env={}))


def matcher_when_down(settings: Settings) -> Settings:
    """``settings`` where the offline matcher answers alone while Rasa is down, whether or
    not a model is trained here (tests/test_local_model.py reads the model then)."""
    nlu = settings.nlu.model_copy(update={"read_model_when_down": False})
    return settings.model_copy(update={"nlu": nlu})


@pytest.fixture(scope="session")
def catalogs(settings: Settings) -> Catalogs:
    return Catalogs.load(settings.languages.supported)


@pytest.fixture
def clock() -> FakeClock:
    # A Tuesday morning in November, Oslo office hours.
    return FakeClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))


@pytest.fixture
def ctx(settings: Settings, catalogs: Catalogs, clock: FakeClock) -> FlowContext:
    return FlowContext(settings=settings, t=catalogs, now=clock())


def app_settings(
    tmp_path: Path, nlu_url: str = DEAD_NLU_URL, database_url: str | None = None
) -> Settings:
    """The real config with a temporary database and an NLU URL of the test's choosing; the
    offline matcher answers alone while Rasa is down (``matcher_when_down``)."""
    env = {
        "INNGANG_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_NLU_URL": nlu_url,
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "test-secret",
    }
    return matcher_when_down(load_settings(PROJECT_ROOT / "config.yml", env=env))


@pytest.fixture
def offline_app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    """The whole application with the Rasa server unreachable."""
    app = build_app(app_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key")
    yield app


def assert_test_database(url: str) -> None:
    """These tests drop the public schema: refuse any database whose name does not say it
    is a test database (``inngang_test``, ``test_inngang``), whatever URL they are given."""
    name = make_url(url).database or ""
    if not re.search(r"(^|[_-])test([_-]|$)", name):
        pytest.fail(f"refusing to drop the schema of {name!r}: not named as a test database")


def fresh_postgres_url() -> str:
    """INNGANG_TEST_POSTGRES_URL with an empty public schema; skips the test when it is
    unset (fails in CI, which always sets it). Only a database named for tests is dropped."""
    url = os.environ.get("INNGANG_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide INNGANG_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("no PostgreSQL here; set INNGANG_TEST_POSTGRES_URL")
    assert_test_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test runs on SQLite and on PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inngang.db'}"
    return fresh_postgres_url()


@pytest.fixture
def any_app(database_url: str, tmp_path: Path, clock: FakeClock) -> App:
    """The whole application, offline, on each database in turn."""
    settings = app_settings(tmp_path, database_url=database_url)
    return build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")
