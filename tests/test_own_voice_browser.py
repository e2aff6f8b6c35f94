"""The child's own voice in real Chromium: a 15-year-old writes to the web chat on a phone,
Kari takes the case and sends "Før møtet" with the meeting's time; the questions arrive in
the phone's chat one at a time, the young person answers, skips one, answers the last; Kari
sees the answers on the case page as "Barnets egne ord" and opens the printable page; a
leader's page of question sets. Axe finds nothing on any of them. Screenshots (case page at
1280x800, the chat at 390x844) go to /tmp/console-shots/ (or INNGANG_SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.web import create_web_app
from tests.fakes.serving import serving
from tests.test_console_browser import DESKTOP, PASSWORD, PHONE, no_axe_findings, shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def say(page: object, text: str) -> None:
    await page.get_by_label("Meldingen din").fill(text)  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def test_a_15_year_old_answers_before_the_meeting_and_kari_sees_their_own_words(
    served: str, chromium: object, offline_app: App
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    app = offline_app
    phone = await chromium.new_context(  # type: ignore[arg-type]
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO"
    )
    teen = await phone.new_page()
    await teen.goto(served + "/")
    await teen.get_by_role("button", name="Snakk med en person").first.click()
    await teen.get_by_role("button", name="Meg selv").click()
    await teen.get_by_role("button", name="13-17 år").click()
    await teen.get_by_role("button", name="Ja, losen kan ta med tjenestene vi trenger").click()
    await teen.get_by_role("button", name="Hopp over").click()  # strengths first: skipped
    await say(teen, "Jeg vil ha hjelp med skole og fritid, og at noen hører på meg.")
    # the answer to the words first: a "Ferdig" pressed before it would be the one it retires
    await expect(teen.locator(".msg.bot").last).to_contain_text("Skriv mer, eller velg")
    await teen.locator("button[data-payload=done]:not([disabled])").last.click()
    await teen.get_by_role("button", name="Her i chatten").click()
    await teen.get_by_role("button", name="Send til familielosen").click()
    await expect(teen.locator(".msg.bot:not(.welcome)").last).to_contain_text("K-")
    [item] = app.queue.open_cases("kari")
    reference = item.reference

    desk = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    kari = await desk.new_page()
    await sign_in(kari, served, f"/staff/case/{reference}")
    await kari.get_by_role("button", name="Ta saken", exact=True).click()
    await kari.get_by_label("Spørsmålssett").select_option(label="Før møtet")
    await kari.get_by_label("Møtedato (valgfritt)").fill("2026-12-01")
    await kari.get_by_label("Klokkeslett, norsk tid (valgfritt)").fill("14:00")
    await kari.get_by_role("button", name="Send spørsmål før møtet").click()
    await expect(kari.locator("#own-voice")).to_contain_text("Sendt – ikke kommet fram ennå")
    await app.router.process_pending()  # the server's loop does this every second

    last = teen.locator(".msg.bot").last
    await expect(last).to_contain_text("Spørsmål 1 av 3: Hva er viktigst for deg?")
    await expect(teen.locator(".msg.bot").nth(-2)).to_contain_text("tirsdag 1. desember 14:00")
    await say(teen, "At jeg får være med og bestemme, og at jeg kan fortsette med fotball.")
    await expect(last).to_contain_text("Spørsmål 2 av 3: Hva vil du at de voksne skal vite?")
    await teen.get_by_role("button", name="Hopp over").last.click()
    await expect(last).to_contain_text("Spørsmål 3 av 3: Hvem vil du ha med?")
    await say(teen, "Mormor, og helsesykepleieren på skolen.")
    await expect(last).to_contain_text("Takk! Svarene dine er sendt til familielosen.")
    await no_axe_findings(teen, "chat after the questions before the meeting")
    await shot(teen, "ownvoice-chat-390")

    await kari.reload()
    voice = kari.locator("#own-voice")
    await expect(voice).to_contain_text("Barnets egne ord")
    await expect(voice).to_contain_text("Ferdig: 2 av 3 besvart")
    await expect(voice).to_contain_text("fortsette med fotball")
    await expect(voice).to_contain_text("Hoppet over")
    await expect(voice).to_contain_text("Møtet: 01.12.2026 kl. 14:00 CET")
    await no_axe_findings(kari, "case with the child's own words")
    await kari.screenshot(path=str(_shots() / "ownvoice-case-1280-viewport.png"))
    await shot(kari, "ownvoice-case-1280")

    await kari.get_by_role("link", name="Utskrift til møtet").click()
    await expect(kari.get_by_role("heading", level=1)).to_have_text(
        f"Barnets egne ord – {reference}"
    )
    await no_axe_findings(kari, "printable own words")
    await shot(kari, "ownvoice-print-1280")
    await desk.close()
    await phone.close()


async def test_the_question_sets_page_passes_axe_for_a_leader_and_a_los(
    served: str, chromium: object
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    for user in ("leder", "kari"):
        context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(page, served, "/staff/own-voice", user)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Spørsmål før møtet")
        await expect(page.get_by_text("Hvem vil du ha med?").first).to_be_attached()
        await no_axe_findings(page, f"question sets as {user}")
        await shot(page, f"ownvoice-sets-{user}-1280")
        await context.close()


def _shots() -> object:
    from tests.test_console_browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
