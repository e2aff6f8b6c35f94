"""A trusted person in real Chromium, two phones at 390x844: Sara (15) has a case Kari holds
and asks for a code; Ola opens the link on his own phone, gives his first name and says yes;
Kari's answer arrives on both phones; Ola's words are on Kari's case page as "Ola
(invitert)" with "Med i samtalen" in the facts; Sara takes Ola out, and Kari's next answer
reaches Sara only. Axe finds nothing. Screenshots (phones at 390x844, the case page at
1280x800) go to /tmp/console-shots/ (or INNGANG_SCREENSHOTS)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.web import create_web_app
from tests.fakes.serving import serving
from tests.test_console_browser import (
    DESKTOP,
    PASSWORD,
    PHONE,
    SHOTS,
    no_axe_findings,
    shot,
    sign_in,
)

pytestmark = pytest.mark.browser
CODE = re.compile(r"\b([A-Z2-9]{4})-([A-Z2-9]{4})\b")


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def say(page: object, text: str) -> None:
    await page.get_by_label("Meldingen din").fill(text)  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def test_sara_brings_ola_in_kari_sees_him_and_sara_takes_him_out_again(
    served: str, chromium: object, offline_app: App
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    app = offline_app
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "locale": "nb-NO"}
    saras = await chromium.new_context(**phone)  # type: ignore[arg-type]
    sara = await saras.new_page()
    await sara.goto(served + "/")
    await say(sara, "Kan jeg ta med en venn inn i chatten?")
    await expect(sara.locator(".msg.bot").last).to_contain_text("først når en person")
    await sara.get_by_role("button", name="Snakk med en person").last.click()
    await sara.get_by_role("button", name="Meg selv").click()
    await sara.get_by_role("button", name="13-17 år").click()
    await sara.get_by_role("button", name="Ja, losen kan ta med tjenestene vi trenger").click()
    await sara.get_by_role("button", name="Hopp over").click()
    await say(sara, "Det er mye krangling hjemme, og jeg vil ha hjelp.")
    await expect(sara.locator(".msg.bot").last).to_contain_text("Skjønner")
    await sara.locator("button[data-payload=done]:not([disabled])").last.click()
    await sara.get_by_role("button", name="Her i chatten").click()
    await sara.get_by_role("button", name="Send til familielosen").click()
    await expect(sara.locator(".msg.bot:not(.welcome)").last).to_contain_text("K-")
    [item] = app.queue.open_cases("kari")
    reference = item.reference

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    kari = await desk.new_page()
    await sign_in(kari, served, f"/staff/case/{reference}")
    await kari.get_by_role("button", name="Ta saken", exact=True).click()

    await say(sara, "/inviter")
    invite = sara.locator(".msg.bot").last
    await expect(invite).to_contain_text("Her er koden")
    found = CODE.search(await invite.inner_text())
    assert found is not None
    code = found.group(1) + found.group(2)
    await no_axe_findings(sara, "the young person's chat with a code")
    await shot(sara, "trusted-invite-390")

    olas = await chromium.new_context(**phone)  # type: ignore[arg-type]
    ola = await olas.new_page()
    await ola.goto(f"{served}/#join={code}")  # the link Sara sent, opened on Ola's phone
    await expect(ola.locator(".msg.bot").last).to_contain_text("En ung person har invitert deg")
    assert "#join" not in ola.url
    await say(ola, "Ola")
    await expect(ola.locator(".msg.bot").last).to_contain_text("Før du blir med, Ola")
    await ola.get_by_role("button", name="Ja, jeg blir med").click()
    await expect(ola.locator(".msg.bot").last).to_contain_text("Du er med nå, Ola")
    await app.router.process_pending()
    await expect(sara.locator(".msg.bot").last).to_contain_text("Ola er med i samtalen nå")

    await kari.reload()
    await kari.get_by_label("Svar til innbyggeren").fill("Hei Sara og Ola! Fint at dere er to.")
    await kari.get_by_role("button", name="Send svaret").click()
    await expect(sara.locator(".msg.los").last).to_contain_text("Fint at dere er to")
    await expect(ola.locator(".msg.los").last).to_contain_text("Fint at dere er to")
    await say(ola, "Takk! Jeg er her for Sara.")
    await expect(sara.locator(".msg").last).to_contain_text("Ola (invitert): Takk!")
    await no_axe_findings(ola, "the invited friend's chat")
    await shot(ola, "trusted-friend-390")

    await kari.reload()
    await expect(kari.locator("#trusted")).to_contain_text("Ola")
    await expect(kari.locator("#trusted")).to_contain_text("nettchat")
    await expect(kari.locator(".messages")).to_contain_text("Ola (invitert)")
    await no_axe_findings(kari, "case with a trusted person")
    await shot(kari, "trusted-case-1280")
    await kari.locator("#trusted").scroll_into_view_if_needed()
    await kari.screenshot(path=str(SHOTS / "trusted-case-1280-viewport.png"))

    await sara.get_by_role("button", name="Ta ut Ola").last.click()
    await expect(sara.locator(".msg.bot").last).to_contain_text("Ola er tatt ut")
    await expect(ola.locator(".msg.bot").last).to_contain_text("avsluttet din del")
    await kari.reload()
    await kari.get_by_label("Svar til innbyggeren").fill("Nå er det bare oss to, Sara.")
    await kari.get_by_role("button", name="Send svaret").click()
    await expect(sara.locator(".msg.los").last).to_contain_text("bare oss to")
    await ola.wait_for_timeout(2500)  # two polls
    await expect(ola.locator(".msg.los")).to_have_count(1)
    await shot(sara, "trusted-removed-390")
    for context in (olas, desk, saras):
        await context.close()
