"""Calls at a time that suits in real Chromium: a parent on a phone (390x844) presses "Ring
meg", sees Thursday's free times in bokmål and Oslo time, picks 10:30, gives the number and
is told the time; on Thursday morning Kari (1280x800) opens "Dagens samtaler" and sees the
parent's call beside a Polish and an Arabic family's, marks one done. Axe finds nothing.
Screenshots go to /tmp/console-shots/ (or INNGANG_SCREENSHOTS): callback-slots-390 and
callback-day-1280."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import App
from bot.store.callbacks import Callbacks
from bot.web import create_web_app
from tests.fakes.clock import FakeClock
from tests.fakes.serving import serving
from tests.journey import Citizen
from tests.test_console_browser import DESKTOP, PASSWORD, PHONE, no_axe_findings, shot, sign_in

pytestmark = pytest.mark.browser

THURSDAY = [datetime(2026, 11, 26, h, m, tzinfo=UTC) for h in (9, 10) for m in (0, 30)]
"""Thursday 26 November 10:00-12:00 in Oslo, every 30 minutes."""


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def say(page: object, text: str) -> None:
    await page.get_by_label("Meldingen din").fill(text)  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def family_books(app: App, user: str, language: str, words: str, typed: str) -> str:
    """A family on the jsonl channel books by typing; their case reference."""
    family = Citizen(app, user)
    await family.says("", button=f"lang:{language}")
    await family.says(words)
    for button in ("person", "about:child", "age:0-5", "consent:los", "strengths:skip", "done"):
        await family.says("", button=button)
    await family.says("", button="contact:call")
    await family.says(typed)
    await family.says("+47 41 22 33 44")
    handled = await family.says("", button="confirm:send")
    assert handled.handover
    return family.last().split("K-")[1][:6]


async def test_a_parent_picks_thursday_1030_on_a_phone_and_kari_sees_the_days_calls(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    app = offline_app
    Callbacks(app.store.sessions, clock).publish("kari", THURSDAY, 30)
    phone = await chromium.new_context(  # type: ignore[arg-type]
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO"
    )
    parent = await phone.new_page()
    await parent.goto(served + "/")
    await parent.get_by_role("button", name="Snakk med en person").first.click()
    await parent.get_by_role("button", name="Mitt barn").click()
    await parent.get_by_role("button", name="6-12 år").click()
    await parent.get_by_role("button", name="Ja, losen kan ta med tjenestene vi trenger").click()
    await parent.get_by_role("button", name="Hopp over").click()
    await say(parent, "Datteren min på 9 år har sluttet å spise på skolen og gråter om kveldene.")
    # the answer to the words first: a "Ferdig" pressed before it would be the one it retires
    await expect(parent.locator(".msg.bot").last).to_contain_text("Skriv mer, eller velg")
    await parent.locator("button[data-payload=done]:not([disabled])").last.click()
    await parent.get_by_role("button", name="Ring meg").click()
    slot = parent.get_by_role("button", name="torsdag 26. november 10:30")
    await expect(slot).to_be_visible()
    await expect(parent.get_by_role("button", name="Når som helst")).to_be_visible()
    await no_axe_findings(parent, "the slot choice in the chat")
    await parent.screenshot(path=str(_shots() / "callback-slots-390-viewport.png"))
    await shot(parent, "callback-slots-390")
    await slot.click()
    await expect(parent.locator(".msg.bot").last).to_contain_text("Hvilket telefonnummer")
    await say(parent, "98 76 54 32")
    await parent.get_by_role("button", name="Send til familielosen").click()
    await expect(parent.locator(".msg.bot").last).to_contain_text(
        "Familielosen ringer deg torsdag 26. november 10:30 (norsk tid)."
    )
    await shot(parent, "callback-confirmed-390")
    [mine] = app.queue.open_cases("kari")

    polish = await family_books(
        app, "pl-family", "pl", "Mój syn ma 4 lata i nie mówi, martwimy się.", "czwartek 10:00"
    )
    arabic = await family_books(
        app, "ar-family", "ar", "ابني عمره أربع سنوات ولا يتكلم، نحن قلقون جدا.", "1"
    )
    assert app.queue.claim(mine.reference, "kari")
    clock.now = datetime(2026, 11, 26, 7, 45, tzinfo=UTC)  # Thursday 08:45 in Oslo

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    kari = await desk.new_page()
    await sign_in(kari, served, "/staff/calls")
    await expect(kari.get_by_role("heading", level=1)).to_have_text("Dagens samtaler")
    rows = kari.locator("table.calls tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text(f"K-{polish}")
    await expect(rows.nth(0)).to_contain_text("polsk")
    await expect(rows.nth(1)).to_contain_text(mine.reference)
    await expect(rows.nth(1)).to_contain_text("Kari Los")
    await expect(rows.nth(2)).to_contain_text(f"K-{arabic}")
    await expect(rows.nth(2)).to_contain_text("Ikke tatt ennå")
    await no_axe_findings(kari, "the day's calls")
    await kari.screenshot(path=str(_shots() / "callback-day-1280-viewport.png"))
    await shot(kari, "callback-day-1280")
    await rows.nth(0).get_by_role("button", name="Ringt").click()
    await expect(kari.get_by_role("status")).to_contain_text("Samtalen er merket som ringt.")
    await expect(kari.locator("table.calls tbody tr").nth(0)).to_contain_text("Ringt 26.11.2026")
    await kari.get_by_role("link", name=mine.reference).click()
    await expect(kari.locator("#call")).to_have_text("Avtalt samtale")
    await expect(kari.locator("p.call")).to_contain_text("26.11.2026 kl. 10:30 CET")
    await desk.close()
    await phone.close()


def _shots() -> object:
    from tests.test_console_browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
