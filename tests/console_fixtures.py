"""The console as a test meets it: the web application with the example roster's demo staff
all given one password, Kari (familielos) signed in through the sign-in page, and a stranger's
browser from another address that has signed in as nobody. A test module that needs another
set-up defines its own fixture of the same name."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from bot.app import App
from bot.web import create_web_app
from tests.staff_browser import StaffBrowser

PASSWORD = "console-test-password"


@pytest.fixture
def web(offline_app: App) -> Starlette:
    return create_web_app(offline_app, staff_password=PASSWORD)


@contextlib.asynccontextmanager
async def signed_in(
    web: Starlette, staff: str, address: str = "127.0.0.1"
) -> AsyncIterator[StaffBrowser]:
    """A browser from ``address`` with ``staff`` signed in through the sign-in page."""
    async with StaffBrowser(web, address) as browser:
        assert (await browser.sign_in(staff, PASSWORD)).status_code == 303
        yield browser


@pytest.fixture
async def kari(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with signed_in(web, "kari") as browser:
        yield browser


@pytest.fixture
async def stranger(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with StaffBrowser(web, "198.51.100.7") as browser:
        yield browser
