"""Areas in the console, in a real Chromium: Astrid, a leader of Askim, changes Askim's
helsestasjon number on the content page and a parent's phone in Askim's chat gets it; Lise,
a leader of all areas, reads who is on duty in each area on the queue page and publishes
Mysen's callback slots; axe finds nothing. Screenshots: docs/screenshots/areas-*.png (or
INNGANG_SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.web import create_web_app
from tests.area_fixtures import areas_app
from tests.console_fixtures import PASSWORD
from tests.fakes.serving import serving
from tests.test_areas_browser import shot
from tests.test_console_browser import DESKTOP, PHONE, no_axe_findings

__all__ = ["areas_app"]  # the fixture
pytestmark = pytest.mark.browser
NEW_NUMBER = "69 81 77 77"


@pytest.fixture
async def served(areas_app: App) -> AsyncIterator[str]:
    async with serving(create_web_app(areas_app, staff_password=PASSWORD)) as url:
        yield url


async def test_content_duty_and_calls_per_area(served: str, chromium: object) -> None:
    from playwright.async_api import Browser, Page, expect

    assert isinstance(chromium, Browser)

    async def signs_in(page: Page, who: str) -> None:
        await page.goto(served + "/staff")
        await page.get_by_label("Brukernavn").fill(who)
        await page.get_by_label("Passord").fill(PASSWORD)
        await page.get_by_role("button", name="Logg inn").click()

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await desk.new_page()
    await signs_in(page, "astrid")
    await page.goto(served + "/staff/content?service=helsestasjon&language=nb&register=adult")
    await expect(page.locator("main")).to_contain_text("Område: Askim")
    await page.locator("#field-phone").fill(NEW_NUMBER)
    await page.get_by_role("button", name="Lagre kontaktopplysningene").click()
    await expect(page.locator("#field-phone")).to_have_value(NEW_NUMBER)
    await no_axe_findings(page, "content of Askim")
    await shot(page, "content-askim-1280")
    await desk.close()

    phone = await chromium.new_context(
        viewport=PHONE,  # type: ignore[arg-type]
        is_mobile=True,
        has_touch=True,
        locale="nb-NO",
    )
    chat = await phone.new_page()
    await chat.goto(f"{served}/a/askim/")
    await chat.locator("#message").fill("hvor er helsestasjonen?")
    await chat.keyboard.press("Enter")
    await expect(chat.locator("#log > li.msg").last).to_contain_text(NEW_NUMBER)
    await shot(chat, "content-askim-390")
    await phone.close()

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await desk.new_page()
    await signs_in(page, "leder")
    duty = page.locator(".duty-areas")
    await expect(duty).to_contain_text("Askim: På vakt nå: Kari Los.")
    await expect(duty).to_contain_text("Mysen: Ingen er på vakt nå.")
    await no_axe_findings(page, "queue with each area's duty")
    await shot(page, "duty-1280")

    await page.goto(served + "/staff/calls?day=2026-11-26&area=mysen")
    await page.locator("#publish-area").select_option(label="Mysen")
    await page.locator("#publish-from").fill("13:00")
    await page.locator("#publish-to").fill("14:00")
    await page.get_by_role("button", name="Legg ut tidene").click()
    await expect(page.locator("h1")).to_contain_text("Mysen")
    await expect(page.locator(".free-slots")).to_contain_text("13:30")
    await no_axe_findings(page, "calls of one area")
    await shot(page, "calls-mysen-1280")
    await desk.close()
