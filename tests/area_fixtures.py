"""An installation with areas (examples/config-areas.yml: Askim and Mysen) and a leader of
Askim only (Astrid), for the journeys of tests/test_areas_*.py."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from bot.app import App, build_app
from bot.settings import PROJECT_ROOT, Settings, settings_from_mapping
from bot.web import create_web_app
from tests.conftest import matcher_when_down
from tests.console_fixtures import PASSWORD
from tests.fakes.clock import FakeClock

EXAMPLE = PROJECT_ROOT / "examples" / "config-areas.yml"
ASTRID = {"id": "astrid", "name": "Astrid Leder", "role": "leader", "area": "askim"}
"""A leader of Askim only."""


def settings_with_astrid(tmp_path: Path, **changes: Any) -> Settings:
    """The example with Astrid among the staff (and ``changes`` to its top level)."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["roster"]["staff"].append(ASTRID)
    data.update(changes)
    env = {
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_NLU_URL": "http://127.0.0.1:9",
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "test-secret",
    }
    return matcher_when_down(settings_from_mapping(data, env, EXAMPLE))


@pytest.fixture
def areas_app(tmp_path: Path, clock: FakeClock) -> App:
    return build_app(settings_with_astrid(tmp_path), clock=clock, secret_file=tmp_path / "s.key")


@pytest.fixture
def areas_web(areas_app: App) -> Starlette:
    return create_web_app(areas_app, staff_password=PASSWORD)


@pytest.fixture
async def citizen_api(areas_web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=areas_web), base_url="http://inngang.local"
    ) as client:
        yield client


async def asks(api: httpx.AsyncClient, text: str, area: str) -> str:
    """A new visitor in ``area``'s web chat: the bot's replies as one text."""
    answer = await api.post("/api/chat", json={"text": text, "area": area})
    assert answer.status_code == 200
    return "\n".join(r["text"] for r in answer.json()["replies"])


def inputs(page: str) -> dict[str, str]:
    """A page's text inputs (name: value), as a browser would send them."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input id="field-[^"]+" name="([a-z_]+)"[^>]*?value="([^"]*)"', page
        )
    }
