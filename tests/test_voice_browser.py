"""The youth voice and strengths first in a real Chromium: a 15-year-old on a phone
(390x844) writes "Halla! Hva skjer?", is greeted in kind, asks for a person about herself,
is asked what she likes and is good at (with "Hopp over"), and sends; the los on a desktop
(1280x800) reads what she is good at at the top of the case. Axe finds nothing; the
screenshots go to /tmp/console-shots/ (or INNGANG_SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.web import create_web_app
from tests.fakes.serving import serving
from tests.test_console_browser import PASSWORD, no_axe_findings, shot, sign_in
from tests.test_web_chat_browser import DESKTOP, PHONE, Page, choices_in_view, press, say

pytestmark = pytest.mark.browser
STRENGTHS = "Jeg spiller håndball og tegner manga, og jeg er stolt av at jeg kom på laget!"
WORDS = "Det er mye krangling hjemme, og jeg klarer ikke å konsentrere meg på skolen."


@pytest.fixture
async def site(offline_app: App) -> AsyncIterator[str]:
    """The web chat and the staff console, served together."""
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)  # built now
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def a_15_year_old_on_her_phone(chromium: object, site: str) -> None:
    from playwright.async_api import expect

    context = await chromium.new_context(  # type: ignore[attr-defined]
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO"
    )
    page: Page = await context.new_page()
    await page.goto(site + "/")
    newest = page.locator("#log > li.msg").last
    await say(page, "Halla! Hva skjer?")
    await expect(newest).to_contain_text("Halla! Jeg er chatten til Fjordvik kommune")
    await press(page, "Snakk med en person")
    await press(page, "Meg selv")
    await press(page, "13-17 år")
    await press(page, "Ja, men bare familielosen")
    await expect(newest).to_contain_text("Hva liker du å gjøre? Hva er du god på?")
    await expect(page.get_by_role("button", name="Hopp over")).to_be_enabled()
    await choices_in_view(page)
    await shot(page, "voice-strengths-question-phone")
    await no_axe_findings(page, "the strengths question, phone")
    await say(page, STRENGTHS)
    await expect(newest).to_contain_text("Fortell med egne ord hva som skjer")
    await say(page, WORDS)
    await press(page, "Ferdig")
    await press(page, "Her i chatten")
    await expect(newest).to_contain_text("Det som går bra")
    await press(page, "Send til familielosen")
    await expect(newest).to_contain_text("Sånn, da er det sendt!")
    await shot(page, "voice-youth-sent-phone")
    await no_axe_findings(page, "the youth voice, sent, phone")
    await context.close()


async def test_a_15_year_old_gets_a_youth_voice_and_the_los_sees_her_strengths_first(
    chromium: object, site: str, offline_app: App
) -> None:
    from playwright.async_api import expect

    await a_15_year_old_on_her_phone(chromium, site)
    [item] = offline_app.queue.open_cases("kari")
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[attr-defined]
    page: Page = await context.new_page()
    await sign_in(page, site, f"/staff/case/{item.reference}")
    strengths = page.get_by_role("region", name="Det barnet liker og mestrer (med egne ord)")
    await expect(strengths).to_contain_text(STRENGTHS)
    top = await strengths.bounding_box()
    facts = await page.locator("section.facts").bounding_box()
    assert top is not None and facts is not None and top["y"] < facts["y"]
    await shot(page, "voice-case-strengths-1280")
    await no_axe_findings(page, "a case with strengths, 1280")
    await context.close()
