"""Documents from the family in a real Chromium: on a phone a mother with an open case taps
the paper clip, picks the letter from NAV (a PDF) and is told the familielos sees it; the los
opens the case on a desktop, sees the document and gets it as a download, never shown in the
page. axe finds nothing on either page. Screenshots go to /tmp/shots-docs15/ (or
INNGANG_SCREENSHOTS) for a person to look at."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.channels.web_chat import ChatTokens
from bot.web import create_web_app
from tests.fakes.serving import serving
from tests.journey import Citizen
from tests.test_console_browser import DESKTOP, PHONE, no_axe_findings, sign_in
from tests.test_console_browser import PASSWORD as PASSWORD
from tests.test_documents import PDF, RECEIVED

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("INNGANG_SCREENSHOTS", "/tmp/shots-docs15"))


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def mother_with_an_open_case(app: App) -> str:
    """A mother's web chat with a case open with consent; returns her chat token."""
    token = ChatTokens(app.router.secret).issue()
    mother = Citizen(app, token, channel="web")
    for button in ("person", "about:self", "age:18+", "consent:services", "strengths:skip"):
        await mother.says("", button=button)
    await mother.says("Vi har fått et brev fra NAV som vi ikke forstår.")
    await mother.says("Ferdig")
    await mother.says("", button="contact:chat")
    await mother.says("Send til familielosen")
    assert mother.last().startswith("Sendt.")
    return token


async def test_a_mother_sends_a_letter_from_her_phone_and_the_los_downloads_it(
    served: str, chromium: object, offline_app: App
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    SHOTS.mkdir(parents=True, exist_ok=True)
    token = await mother_with_an_open_case(offline_app)
    phone = await chromium.new_context(
        viewport=PHONE,  # type: ignore[arg-type]
        is_mobile=True,
        has_touch=True,
        locale="nb-NO",
    )
    await phone.add_init_script(f"localStorage.setItem('inngang-token', {token!r});")
    chat = await phone.new_page()
    await chat.goto(served + "/")
    await expect(chat.locator(".msg.bot").last).to_contain_text("Sendt.")
    clip = chat.get_by_label("Legg ved bilde eller PDF")
    await clip.set_input_files(
        files=[{"name": "brev-fra-nav.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    await expect(chat.locator(".msg.me").last).to_contain_text("Dokument sendt")
    await expect(chat.locator(".msg.bot").last).to_contain_text(RECEIVED)
    await no_axe_findings(chat, "chat with the paper clip")
    await chat.screenshot(path=str(SHOTS / "chat-document-390.png"))

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await desk.new_page()
    (item,) = offline_app.queue.open_cases("kari")
    await sign_in(page, served, f"/staff/case/{item.reference}")
    await expect(page.get_by_role("heading", name="Dokumenter fra familien")).to_be_visible()
    await expect(page.locator(".messages")).to_contain_text("Sendte et dokument: Last ned PDF")
    await no_axe_findings(page, "case page with a document")
    await page.screenshot(path=str(SHOTS / "case-document-1280.png"), full_page=True)
    async with page.expect_download() as fetched:
        await page.get_by_role("link", name="Last ned PDF").first.click()
    download = await fetched.value
    assert download.suggested_filename == f"{item.reference}-1.pdf"
    assert Path(await download.path()).read_bytes() == PDF
