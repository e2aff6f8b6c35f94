"""The staff console in a real Chromium (Debian's package, driven by Playwright): a los signs
in, finds the urgent case first, opens a young person's case (her first message there),
takes it, answers, closes it after the confirmation step; the keyboard reaches everything
with a visible focus; axe finds nothing on the sign-in, queue, case and close pages, on a
desktop screen and on a phone. Screenshots go to /tmp/console-shots/ (or
INNGANG_SCREENSHOTS) for a person to look at."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.web import create_web_app
from tests.fakes.clock import FakeClock
from tests.fakes.serving import serving
from tests.journey import Citizen

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"
SHOTS = Path(os.environ.get("INNGANG_SCREENSHOTS", "/tmp/console-shots"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def cases_arrive(app: App, clock: FakeClock) -> str:
    """An urgent anonymous case, an Arabic question, and a young person's case; returns the
    young person's reference."""
    night = Citizen(app, "homeless", channel="web")
    await night.says("/anonym")
    await night.says("jeg har ingen steder å sove i natt")
    clock.advance(minutes=7)
    arabic = Citizen(app, "arabic", channel="telegram")
    await arabic.says("/anonym")
    await arabic.says("مرحبا، ابني عمره ٨ سنوات ويحتاج مساعدة في المدرسة. رقمي 41 22 33 44")
    clock.advance(minutes=5)
    teen = Citizen(app, "young", channel="web")
    await teen.says("jeg blir mobbet og vil snakke med noen")
    await teen.says("", button="about:self")
    await teen.says("", button="age:<13")
    await teen.says("det skjer hver dag i friminuttet, og ingen voksne ser det")
    clock.advance(minutes=12)
    [item] = [i for i in app.queue.open_cases("kari") if i.channel == "web" and not i.crisis]
    return item.reference


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    async with serving(create_web_app(offline_app, staff_password=PASSWORD)) as url:
        yield url


async def no_axe_findings(page: object, name: str) -> None:
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)  # type: ignore[arg-type]
    found = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
    ]
    assert found == [], f"{name}: {found}"


async def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


async def sign_in(page: object, served: str, next_path: str = "/staff", user: str = "kari") -> None:
    from playwright.async_api import Page

    assert isinstance(page, Page)
    await page.goto(served + next_path)
    await page.get_by_label("Brukernavn").fill(user)
    await page.get_by_label("Passord").fill(PASSWORD)
    await page.get_by_role("button", name="Logg inn").click()


async def test_a_los_works_a_case_from_sign_in_to_close_and_axe_finds_nothing(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    reference = await cases_arrive(offline_app, clock)
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await context.new_page()

    await page.goto(served + "/staff")
    await expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    await no_axe_findings(page, "login")
    await shot(page, "login-1280")
    await sign_in(page, served)

    await expect(page.get_by_role("heading", level=1, name="Familielos-køen")).to_be_visible()
    rows = page.locator("table.cases tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text("Haster")  # the urgent case first
    await expect(rows.first).to_contain_text("ikke noe sted å bo eller sove")
    await expect(page.get_by_text("for 24 min siden").first).to_be_visible()
    await no_axe_findings(page, "queue")
    await shot(page, "queue-1280")

    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Sak {reference}")
    talk = page.locator("ol.messages")
    await expect(talk).to_contain_text("jeg blir mobbet og vil snakke med noen")
    await no_axe_findings(page, "case")
    await shot(page, "case-open-1280")

    await page.get_by_role("button", name="Ta saken", exact=True).click()
    await expect(page.locator(".tags")).to_contain_text("Din sak")
    await expect(page.get_by_role("button", name="Ta saken", exact=True)).to_have_count(0)
    await page.get_by_label("Svar til innbyggeren").fill("Hei! Så bra at du skriver. Jeg er her.")
    await page.get_by_role("button", name="Send svaret").click()
    await expect(talk).to_contain_text("Hei! Så bra at du skriver. Jeg er her.")
    await no_axe_findings(page, "case claimed")
    await shot(page, "case-mine-1280")

    await page.get_by_role("button", name="Avslutt saken …").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Avslutte sak {reference}?")
    await no_axe_findings(page, "close")
    await shot(page, "close-1280")
    await page.get_by_label("Besvart i samtalen").check()
    await page.get_by_role("button", name="Ja, avslutt saken").click()
    await expect(page.get_by_role("status")).to_have_text(f"Sak {reference} er avsluttet.")
    await expect(page.locator("table.cases tbody tr")).to_have_count(2)

    await page.get_by_role("button", name="Logg ut").click()
    await expect(page.get_by_text("Du er logget ut.")).to_be_visible()
    await page.goto(served + "/staff")
    await expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    await context.close()


async def test_two_los_take_the_same_case_at_once_and_the_second_is_told_who_was_first(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    reference = await cases_arrive(offline_app, clock)
    pages = []
    for user in ("kari", "ahmed"):
        context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(page, served, f"/staff/case/{reference}", user)
        await expect(page.get_by_role("button", name="Ta saken", exact=True)).to_be_visible()
        pages.append(page)
    kari, ahmed = pages

    await kari.get_by_role("button", name="Ta saken", exact=True).click()
    await expect(kari.locator(".tags")).to_contain_text("Din sak")
    await ahmed.get_by_role("button", name="Ta saken", exact=True).click()

    await expect(ahmed.get_by_role("alert")).to_have_text(
        "Kari Los tok saken rett før deg. Du kan lese den, men den er ikke din."
    )
    await expect(ahmed.get_by_role("button", name="Ta saken", exact=True)).to_have_count(0)
    await expect(ahmed.locator("main")).to_contain_text("Kari Los har saken")
    await expect(ahmed.get_by_role("button", name="Send svaret")).to_have_count(0)
    await no_axe_findings(ahmed, "case taken by a colleague")
    await shot(ahmed, "case-taken-first-1280")
    [item] = [i for i in offline_app.queue.open_cases("kari") if i.reference == reference]
    assert item.claimed_by == "kari"
    for page in pages:
        await page.context.close()


async def test_every_other_console_page_passes_axe_too(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    """The password page, the saved answers (as a los reads them and as a leader edits
    them), the admin's accounts page, a case that does not exist, and the signed-out page."""
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("ola", "Ola Admin", "admin", None, clock())
    for user, pages in (
        ("kari", ["/staff/password", "/staff/answers", "/staff/case/K-NOSUCH"]),
        ("leder", ["/staff/answers"]),
        ("ola", ["/staff"]),
    ):
        context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(page, served, "/staff", user)
        await expect(page.get_by_role("button", name="Logg ut")).to_be_visible()
        for path in pages:
            await page.goto(served + path)
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await no_axe_findings(page, f"{path} as {user}")
            await shot(page, f"{user}{path.replace('/', '-')}-1280")
        await page.get_by_role("button", name="Logg ut").click()
        await expect(page.get_by_text("Du er logget ut.")).to_be_visible()
        await no_axe_findings(page, "signed out")
        await context.close()


async def test_on_a_phone_the_pages_read_well_and_axe_finds_nothing(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    reference = await cases_arrive(offline_app, clock)
    context = await chromium.new_context(  # type: ignore[arg-type]
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO"
    )
    page = await context.new_page()
    await page.goto(served + "/staff")
    await shot(page, "login-390")
    await sign_in(page, served)
    await expect(page.get_by_role("heading", level=1, name="Familielos-køen")).to_be_visible()
    no_sideways = "document.documentElement.scrollWidth <= window.innerWidth"
    assert await page.evaluate(no_sideways)
    await no_axe_findings(page, "queue on a phone")
    await shot(page, "queue-390")
    await page.get_by_role("link", name=reference).click()
    await expect(page.locator("ol.messages")).to_contain_text("jeg blir mobbet")
    assert await page.evaluate(no_sideways)
    await no_axe_findings(page, "case on a phone")
    await shot(page, "case-390")
    arabic = [i for i in offline_app.queue.open_cases("kari") if i.language == "ar"]
    if arabic:
        await page.goto(served + f"/staff/case/{arabic[0].reference}")
        words = page.locator("blockquote.words").first
        await expect(words).to_have_attribute("dir", "rtl")
        await shot(page, "case-arabic-390")
    await context.close()


async def test_the_keyboard_reaches_everything_with_a_visible_focus(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    reference = await cases_arrive(offline_app, clock)
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(served + "/staff/login")
    assert await page.evaluate("document.activeElement.id") == "user"  # ready to type
    await page.keyboard.type("kari")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1, name="Familielos-køen")).to_be_visible()
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Hopp til innholdet"
    for _ in range(40):  # tab to the case link and open it with Enter
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent") == reference:
            break
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Sak {reference}")
    await context.close()


async def test_a_new_case_and_a_message_appear_live_and_a_los_adds_a_note(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    """The queue page stays open: a young person writes in the web chat and her case appears
    without a reload, announced in "Nytt i køen"; the los switches the sound and browser
    notifications on (remembered); a message on a case raises its unread count; on the case
    page she writes a note, shown as one never sent to the citizen."""
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    await cases_arrive(offline_app, clock)
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    await context.grant_permissions(["notifications"], origin=served)
    page = await context.new_page()
    await sign_in(page, served)
    await expect(page.get_by_role("heading", level=1, name="Familielos-køen")).to_be_visible()
    rows = page.locator("table.cases tbody tr")
    await expect(rows).to_have_count(3)
    live = page.get_by_role("region", name="Nytt i køen")
    await expect(live).to_be_visible()
    sound = page.get_by_role("button", name="Lyd ved nye saker")
    await sound.click()
    await expect(sound).to_have_attribute("aria-pressed", "true")
    notify = page.get_by_role("button", name="Varsel i nettleseren")
    await notify.click()
    await expect(notify).to_have_attribute("aria-pressed", "true")
    await page.evaluate("window.notSameLoad = true")

    child = Citizen(offline_app, "live-child", channel="web")
    await child.says("/anonym")
    await child.says("jeg vil ikke leve lenger")
    await expect(rows).to_have_count(4, timeout=15_000)
    assert await page.evaluate("window.notSameLoad === true")  # no reload
    new = rows.nth(1)  # urgent first (after the urgent case waiting longer)
    await expect(new).to_contain_text("selvmordstanker eller selvskading")
    await expect(new).to_contain_text("venter 0 min – innenfor målet (5 min)")
    await expect(new.locator(".badge")).to_have_text("1 ulest")
    await expect(rows.first).to_contain_text("venter 24 min – over målet (5 min)")
    await expect(page.locator("#live-list li").first).to_contain_text("Ny sak som haster")
    await expect(page.locator("#live-assertive")).to_contain_text("Ny sak som haster")
    await no_axe_findings(page, "queue, live")
    await shot(page, "queue-live-1280")

    teen_ref = await first_web_case(offline_app)
    teen = Citizen(offline_app, "young", channel="web")
    await teen.says("er det noen som leser dette?")
    teen_row = page.locator(f'tr[data-reference="{teen_ref}"]')
    await expect(teen_row.locator(".badge")).to_have_text("2 ulest", timeout=15_000)
    await expect(page.locator("#live-polite")).to_contain_text("Ny melding fra innbyggeren")

    await page.reload()  # the switches are remembered
    await expect(page.get_by_role("button", name="Lyd ved nye saker")).to_have_attribute(
        "aria-pressed", "true"
    )

    await page.get_by_role("link", name=teen_ref).click()
    await page.get_by_label("Notat til saken (stafettlogg)").fill(
        "Snakket med kontaktlærer. Ringer igjen fredag."
    )
    await page.get_by_role("button", name="Lagre notatet").click()
    note = page.locator("ol.messages li.note")
    await expect(note).to_contain_text("Notat – ikke sendt til innbyggeren")
    await expect(note).to_contain_text("Snakket med kontaktlærer. Ringer igjen fredag.")
    await expect(note).to_contain_text("Kari Los")
    await no_axe_findings(page, "case with a note")
    await page.locator("#notes").scroll_into_view_if_needed()
    await shot(page, "case-note-1280")
    assert "Snakket med kontaktlærer" not in " ".join([*teen.seen, *await teen.inbox()])

    # She is typing when the young person writes again: the message comes in, the draft stays.
    await page.evaluate("window.notSameLoad = true")
    await page.get_by_label("Notat til saken (stafettlogg)").fill("utkast som ikke er lagret")
    await teen.says("hallo? er du der fortsatt?")
    await expect(page.locator("ol.messages")).to_contain_text(
        "hallo? er du der fortsatt?", timeout=15_000
    )
    await expect(page.locator("#case-news")).to_contain_text("Innbyggeren har skrevet noe nytt")
    await expect(page.get_by_label("Notat til saken (stafettlogg)")).to_have_value(
        "utkast som ikke er lagret"
    )
    assert await page.evaluate("window.notSameLoad === true")
    await no_axe_findings(page, "case with news")
    await shot(page, "case-news-1280")
    await context.close()


async def first_web_case(app: App) -> str:
    [item] = [i for i in app.queue.open_cases("kari") if i.channel == "web" and not i.crisis]
    return item.reference


async def test_a_los_answers_with_a_saved_answer_and_brings_in_ppt_who_sees_only_that_case(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    """Kari takes a parent's case, inserts the saved greeting (her name filled in), adds to
    it and sends it; she invites Per from PPT, who signs in, sees that case and nothing else,
    and writes a note; axe finds nothing on the pages of either."""
    from playwright.async_api import Browser, expect

    from tests.test_journeys import parent_sends_a_case

    assert isinstance(chromium, Browser)
    parent, reference = await parent_sends_a_case(offline_app)
    other = Citizen(offline_app, "other", channel="web")
    await other.says("/anonym")
    await other.says("jeg lurer på om jeg kan snakke med noen om mamma")
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in(page, served, f"/staff/case/{reference}")
    await page.get_by_role("button", name="Ta saken", exact=True).click()

    await page.get_by_text("Sett inn et lagret svar (5)").click()
    await page.get_by_role("link", name="Hilsen og presentasjon").click()
    box = page.get_by_label("Svar til innbyggeren")
    await expect(box).to_have_value(
        "Hei! Jeg heter Kari Los og er familielos i Fjordvik kommune. Takk for at du skrev "
        "til oss. Jeg har lest meldingen din og skal hjelpe deg videre."
    )
    await box.press("End")
    await box.type(" Passer det at jeg ringer i dag kl. 15?")
    await page.get_by_role("button", name="Send svaret").click()
    await expect(page.locator("ol.messages")).to_contain_text("Passer det at jeg ringer i dag")
    assert any("Jeg heter Kari Los" in seen for seen in await parent.inbox())

    await page.get_by_label("Inviter en tjeneste inn i saken").select_option("per")
    await page.get_by_role("button", name="Inviter", exact=True).click()
    await expect(page.locator("#team")).to_contain_text("Per (PPT)")
    await no_axe_findings(page, "case with saved answer and team")
    await shot(page, "case-team-1280")

    per_context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    per = await per_context.new_page()
    await per.goto(served + "/staff")
    await per.get_by_label("Brukernavn").fill("per")
    await per.get_by_label("Passord").fill(PASSWORD)
    await per.get_by_role("button", name="Logg inn").click()
    await expect(per.get_by_role("link", name=reference)).to_be_visible()
    await expect(per.locator("main")).not_to_contain_text("mamma")  # the other case: not his
    await no_axe_findings(per, "invited cases")
    await per.get_by_role("link", name=reference).click()
    await expect(per.locator("ol.messages")).to_contain_text("Passer det at jeg ringer i dag")
    await expect(per.get_by_role("button", name="Send svaret")).to_have_count(0)
    await per.get_by_label("Notat til saken (stafettlogg)").fill("PPT kan ta en prat med skolen.")
    await per.get_by_role("button", name="Lagre notatet").click()
    await expect(per.locator("ol.messages")).to_contain_text("PPT kan ta en prat med skolen.")
    await no_axe_findings(per, "invited case")
    await shot(per, "case-invited-1280")
    others = [i.reference for i in offline_app.queue.open_cases("kari") if i.reference != reference]
    response = await per.goto(f"{served}/staff/case/{others[0]}")
    assert response is not None and response.status == 404
    await per_context.close()
    await context.close()


async def test_the_unplaced_messages_page_reads_well_and_axe_finds_nothing(
    served: str, chromium: object, offline_app: App, clock: FakeClock
) -> None:
    """A leader opens "Det boten ikke forsto" after parents wrote things the bot was unsure
    of (in bokmål and Arabic, with names and numbers): groups, masked, and axe is content."""
    from playwright.async_api import Browser, expect

    from tests.test_unplaced import rasa_unsure

    assert isinstance(chromium, Browser)
    rasa_unsure(offline_app)
    for number, text in enumerate(
        (
            "Hei, jeg heter Ola Nordmann. Kan noen ringe meg på 912 34 567 om vaksine-greia?",
            "Hei, jeg heter Kari. Kan noen ringe meg på 41234567 om vaksine-greia til Per?",
            "Hvem tar seg av søknad om støttekontakt for Sofie (f. 12.03.2015)?",
            "اسمي محمد، أين أسأل عن دعم الواجبات المدرسية؟ رقمي ٩١٢٣٤٥٦٧",
        )
    ):
        citizen = Citizen(offline_app, f"unplaced-{number}", channel="web")
        await citizen.says(text)
        if number == 0:
            await citizen.says("", button="topic:helsestasjon")
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in(page, served, "/staff/unplaced", "leder")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Det boten ikke forsto")
    await expect(page.get_by_role("link", name="Ikke forstått")).to_be_visible()
    body = await page.locator("main").inner_text()
    assert "‹telefon›" in body and "912 34 567" not in body and "Nordmann" not in body
    await no_axe_findings(page, "/staff/unplaced as leder")
    await shot(page, "leder-staff-unplaced-1280")
    await context.close()
