"""A real Chromium (Debian's package, driven by Playwright) for the browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.test_web_chat import CHROMIUM_ARGS, chromium_path


@pytest.fixture
async def chromium() -> AsyncIterator[object]:
    """A browser for one test (Playwright is a test extra: imported here, not at the top)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
