"""The web chat in a real Chromium (Debian's package, driven by Playwright): a teenager asks
anonymously on a phone-sized screen, asks for a person, a los replies, the reply appears;
reloads and lost connections lose nothing; Arabic is right to left; axe finds no serious
accessibility problems."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
import uvicorn
from sqlalchemy import select

from bot.app import App
from bot.store.models import Message
from bot.web import create_web_app
from tests.fakes.telegram_api import free_port

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")
    return path


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_web_app(offline_app), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    import asyncio

    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def page(served: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="nb-NO"
        )
        tab = await context.new_page()
        await tab.goto(served + "/")
        yield tab
        await browser.close()


async def say(page: object, text: str) -> None:
    await page.get_by_label("Meldingen din").fill(text)  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def test_a_teenager_asks_anonymously_and_a_los_answers_in_the_page(
    page: object, offline_app: App
) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "hvor er helsestasjonen?")
    await expect(page.locator(".msg.bot").last).to_contain_text("55 10 20 01")
    await page.get_by_role("button", name="Snakk med en person").click()
    await expect(page.get_by_role("button", name="Meg selv")).to_be_visible()
    await page.get_by_role("button", name="Meg selv").click()
    await page.get_by_role("button", name="13-17 år").click()
    await page.get_by_role("button", name="Spør anonymt i stedet").click()
    await say(page, "Jeg tror jeg drikker for mye på fester, hvem kan jeg snakke med?")
    await expect(page.locator(".msg.bot").last).to_contain_text("sendt anonymt")

    [item] = offline_app.queue.open_cases("kari")
    assert item.anonymous and item.channel == "web"
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.view(item.reference, "kari")  # the los reads: the page shows a receipt
    offline_app.queue.reply(item.reference, "kari", "Hei! Så bra at du skriver. Vi kan prate her.")
    await expect(page.locator(".receipt")).to_contain_text("Los har lest meldingen din")
    await expect(page.locator(".msg.los")).to_contain_text("Så bra at du skriver")

    await page.reload()  # the conversation survives a reload (a token in the browser only)
    await expect(page.locator(".msg.los")).to_contain_text("Så bra at du skriver")
    stored = await page.evaluate("Object.keys(localStorage)")
    assert set(stored) <= {"inngang-token", "inngang-outbox"}


async def test_a_message_written_offline_is_sent_when_the_connection_is_back(page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.context.set_offline(True)
    await say(page, "hvem kan hjelpe med lekser?")
    await expect(page.locator("#status")).to_contain_text("Ingen forbindelse")
    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator(".msg.bot").last).not_to_be_empty()


async def test_arabic_is_answered_right_to_left(page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "مرحبا، أين المركز الصحي للأطفال؟")
    bubble = page.locator(".msg.bot").last
    await expect(bubble).to_have_attribute("lang", "ar")
    assert await bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert await page.evaluate("document.documentElement.dir") == "rtl"


async def test_the_page_has_no_serious_accessibility_violations(page: object) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "hei")
    await expect(page.get_by_role("button", name="Snakk med en person")).to_be_visible()
    results = await Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [v["id"] for v in serious]


async def test_the_page_and_the_snippet_load_nothing_from_third_parties(served: str) -> None:
    import re

    import httpx

    async with httpx.AsyncClient(base_url=served) as client:
        snippet = await client.get("/embed.js")
        page = await client.get("/")
        script = await client.get("/static/chat.js")
    assert snippet.status_code == page.status_code == script.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert references and all(ref.startswith("/") for ref in references), references
    code = "\n".join(line for line in snippet.text.splitlines() if not line.startswith("//"))
    assert "http" not in code and "http" not in script.text  # only its own origin


async def test_a_new_visitor_who_types_fast_stays_in_one_conversation_and_loses_nothing(
    page: object, offline_app: App
) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    for text in ("hei", "hvor er PPT?", "takk"):
        await page.get_by_label("Meldingen din").fill(text)
        await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".msg.bot")).to_have_count(3)
    await expect(page.locator(".msg.bot").nth(1)).to_contain_text("55 10 20 03")
    with offline_app.store.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert [m.text for m in inbound] == ["hei", "hvor er PPT?", "takk"]
        assert len({m.conversation_id for m in inbound}) == 1
