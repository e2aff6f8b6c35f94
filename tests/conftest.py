"""Shared fixtures: the real config.yml and catalogs, a fixed clock, an app on temp SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.i18n import Catalogs
from bot.settings import PROJECT_ROOT, Settings, load_settings
from flows.types import FlowContext
from tests.fakes.clock import FakeClock

DEAD_NLU_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(PROJECT_ROOT / "config.yml", env={})


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
    """The real config with a temporary database and an NLU URL of the test's choosing."""
    env = {
        "INNGANG_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_NLU_URL": nlu_url,
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "test-secret",
    }
    return load_settings(PROJECT_ROOT / "config.yml", env=env)


@pytest.fixture
def offline_app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    """The whole application with the Rasa server unreachable."""
    app = build_app(app_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key")
    yield app
