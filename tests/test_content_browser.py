"""Service content in real Chromium: the leader opens "Innhold" at 1280x800, writes a new
text for Helsestasjonen in bokmål, previews it (the web chat's bubble and the SMS count),
first tries a text without its {municipality} and is told which field and why, then saves;
changes the phone; the history shows both with their differences. A parent on a phone at
390x844 asks the web chat about helsestasjon and reads the new text and taps the new number.
Axe finds nothing on the page. Screenshots go to /tmp/console-shots/ (or
INNGANG_SCREENSHOTS): content-editor-1280, content-history-1280, content-webchat-390."""

from __future__ import annotations

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

NEW_TEXT = (
    "Helsestasjonen i {municipality} har flyttet til Kulturhuset, 2. etasje. Vi følger alle "
    "barn fra fødsel til skolestart: kontroller, vaksiner, mat og søvn. Gratis, uten henvisning."
)


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def test_a_leader_edits_helsestasjonen_and_a_parent_reads_it_on_the_phone(
    served: str, chromium: object
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    leder = await desk.new_page()
    await sign_in(leder, served, "/staff", "leder")
    await leder.get_by_role("link", name="Innhold", exact=True).click()
    await expect(leder.get_by_role("heading", level=1)).to_have_text("Innhold om tjenestene")
    await expect(leder.get_by_label("Tjeneste", exact=True)).to_have_value("helsestasjon")
    await expect(leder.locator("#preview")).to_contain_text("Slik boten svarer nå.")
    await no_axe_findings(leder, "content page")

    what = leder.get_by_label("Hva tjenesten er", exact=True)
    await what.fill(NEW_TEXT.replace("{municipality}", "kommunen"))
    await leder.get_by_role("button", name="Lagre tekstene").click()
    alert = leder.get_by_role("alert")
    await expect(alert).to_contain_text("Ingenting ble lagret.")
    await expect(alert).to_contain_text("Hva tjenesten er: plassholderen {municipality} mangler")
    await alert.get_by_role("link", name="Hva tjenesten er").click()
    await expect(what).to_be_focused()
    await no_axe_findings(leder, "content page with a refusal")

    await what.fill(NEW_TEXT)
    await leder.get_by_role("button", name="Forhåndsvis").first.click()
    preview = leder.locator("#preview")
    await expect(preview).to_contain_text("Forhåndsvisning av det du skrev: ikke lagret ennå.")
    await expect(preview).to_contain_text(
        "Helsestasjonen i Fjordvik kommune har flyttet til Kulturhuset"
    )
    await expect(preview).to_contain_text("På SMS:")
    await shot(leder, "content-editor-1280")
    await leder.screenshot(path=str(SHOTS / "content-editor-1280-viewport.png"))
    await leder.get_by_role("button", name="Lagre tekstene").click()
    await expect(leder.get_by_role("status").first).to_contain_text(
        "Tekstene er lagret og brukes nå."
    )

    await leder.get_by_label("Telefon", exact=True).fill("55 10 29 99")
    await leder.get_by_role("button", name="Lagre kontaktopplysningene").click()
    await expect(leder.get_by_role("status").first).to_contain_text(
        "Kontaktopplysningene er lagret"
    )
    history = leder.locator("section", has=leder.locator("#history"))
    await expect(history.locator("li")).to_have_count(2)
    await expect(history.locator("li").first).to_contain_text("Helsestasjon – Telefon")
    await expect(history.locator("ins").first).to_contain_text("55 10 29 99")
    await history.scroll_into_view_if_needed()
    await history.screenshot(path=str(SHOTS / "content-history-1280.png"))
    await no_axe_findings(leder, "content page with its history")

    phone = await chromium.new_context(  # type: ignore[attr-defined]
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO"
    )
    parent = await phone.new_page()
    await parent.goto(served + "/")
    await parent.get_by_label("Meldingen din").fill("Hvor er helsestasjonen?")
    await parent.keyboard.press("Enter")
    answer = parent.locator(".msg.bot:not(.welcome)").last
    await expect(answer).to_contain_text("har flyttet til Kulturhuset, 2. etasje")
    await expect(answer.get_by_role("link", name="55 10 29 99")).to_have_attribute(
        "href", "tel:+4755102999"
    )
    await no_axe_findings(parent, "web chat with the changed answer")
    await shot(parent, "content-webchat-390")
    await desk.close()
    await phone.close()
