"""Two areas in a real Chromium (examples/config-areas.yml): a parent on a phone in Askim's
chat (/a/askim/) and one in Mysen's (/a/mysen/) each ask for the helsestasjon and each get
their own; the leader of both, on a desktop, sees both cases, filters the queue to one area
and reads the figures per area; axe finds nothing. Screenshots: docs/screenshots/areas-*.png
(or INNGANG_SCREENSHOTS)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import App
from bot.web import create_web_app
from tests.console_fixtures import PASSWORD
from tests.fakes.serving import serving
from tests.test_areas import (
    ASKIM_HELSESTASJON,
    MYSEN_HELSESTASJON,
    open_case,
)
from tests.test_areas import area_app as area_app  # the fixture, used by name
from tests.test_console_browser import DESKTOP, PHONE, no_axe_findings

pytestmark = pytest.mark.browser
SHOTS = Path(
    os.environ.get("INNGANG_SCREENSHOTS", Path(__file__).parents[1] / "docs" / "screenshots")
)


@pytest.fixture
async def served(area_app: App) -> AsyncIterator[str]:
    async with serving(create_web_app(area_app, staff_password=PASSWORD)) as url:
        yield url


async def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"areas-{name}.png"))  # type: ignore[attr-defined]


async def test_two_phones_in_two_areas_and_the_leader_of_both(
    served: str, chromium: object
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    for area, number in (("askim", ASKIM_HELSESTASJON), ("mysen", MYSEN_HELSESTASJON)):
        phone = await chromium.new_context(
            viewport=PHONE,  # type: ignore[arg-type]
            is_mobile=True,
            has_touch=True,
            locale="nb-NO",
        )
        page = await phone.new_page()
        await page.goto(f"{served}/a/{area}/")
        await page.locator("#message").fill("hvor er helsestasjonen?")
        await page.keyboard.press("Enter")
        newest = page.locator("#log > li.msg").last
        await expect(newest).to_contain_text(number)
        await expect(newest.get_by_role("link", name=number)).to_have_attribute(
            "href", "tel:+47" + number.replace(" ", "")
        )
        await no_axe_findings(page, f"{area} chat")
        await shot(page, f"{area}-390")
        await phone.close()

    async with httpx.AsyncClient(base_url=served) as api:
        in_askim = await open_case(api, "askim")
        in_mysen = await open_case(api, "mysen")

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await desk.new_page()
    await page.goto(served + "/staff")
    await page.get_by_label("Brukernavn").fill("leder")
    await page.get_by_label("Passord").fill(PASSWORD)
    await page.get_by_role("button", name="Logg inn").click()
    cases = page.locator("#live-cases")
    await expect(cases).to_contain_text(in_askim)
    await expect(cases).to_contain_text(in_mysen)
    await page.get_by_label("Område").select_option(label="Mysen")
    await page.get_by_role("button", name="Vis").click()
    await expect(cases).to_contain_text(in_mysen)
    await expect(cases).not_to_contain_text(in_askim)
    await no_axe_findings(page, "queue of one area")
    await shot(page, "queue-1280")
    await page.goto(served + "/staff/figures?area=askim")
    await expect(page.get_by_label("Område")).to_have_value("askim")
    await no_axe_findings(page, "figures of one area")
    await shot(page, "figures-1280")
    await desk.close()
