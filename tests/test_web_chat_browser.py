"""The web chat's screens in a real Chromium (Debian's package, driven by Playwright), on a
phone (390x844) and a desktop (1280x800): numbers, e-mails and web addresses are links built
from config.yml (a tap on 113 dials 113); the newest message and its choices are in view above
the input, and a focused button is never under it; a reload in the middle of an intake
restores the conversation with its choices, the choice pressed and the read receipts, and a
typed label still answers; a double tap posts once; one Send on the screen; the first screen
greets with the main choices and a language switch, in the browser's language (Arabic right
to left, a typed phone number in order); a crisis answer stands out and is announced; the
typing indicator and the times; the embed panel closes with its button and with Escape. Axe
finds nothing in any of these states. Screenshots go to /tmp/console-shots/ (or
INNGANG_SCREENSHOTS) for a person to look at."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.store.models import Consent
from bot.web import create_web_app
from tests.fakes.serving import serving
from tests.test_console_browser import no_axe_findings, shot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCREENS = {"phone": PHONE, "desktop": DESKTOP}
Page = Any  # playwright.async_api.Page (imported in the tests: Playwright is a test extra)


@pytest.fixture
async def served(offline_app: App) -> AsyncIterator[str]:
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)  # built now
    async with serving(create_web_app(offline_app)) as url:
        yield url


async def on_each_screen(
    chromium: object,
    served: str,
    check: Callable[[Page, str], Awaitable[None]],
    locale: str = "nb-NO",
    path: str = "/",
) -> None:
    """Run ``check`` on a phone and on a desktop, each a new visitor (own browser storage)."""
    for name, viewport in SCREENS.items():
        context = await chromium.new_context(  # type: ignore[attr-defined]
            viewport=viewport,
            is_mobile=name == "phone",
            has_touch=name == "phone",
            locale=locale,
        )
        page = await context.new_page()
        await page.goto(served + path)
        await check(page, name)
        await context.close()


async def say(page: Page, text: str) -> None:
    await page.locator("#message").fill(text)
    await page.keyboard.press("Enter")


async def press(page: Page, label: str) -> None:
    """Press the live choice with this label (the newest message's)."""
    await page.locator(".choices button:not(:disabled)", has_text=label).first.click()


async def box(page: Page, selector: str) -> dict[str, float]:
    found = await page.locator(selector).last.bounding_box()
    assert found is not None, selector
    return dict(found)


async def choices_in_view(page: Page) -> None:
    """The newest message's choices are all in the conversation's view, above the input;
    when there are more than half a screen of them, the message's start and the first."""
    log = await box(page, "#log")
    composer = await box(page, "#composer")
    newest = page.locator("#log > li.msg").last
    buttons = newest.locator(".choices button")
    assert await buttons.count() > 0
    group = await newest.locator(".choices").bounding_box()
    assert group is not None
    count = await buttons.count()
    if group["height"] > log["height"] / 2:
        start = await newest.bounding_box()
        assert start is not None and start["y"] >= log["y"] - 0.5, (start, log)
        count = 1
    for index in range(count):
        button = await buttons.nth(index).bounding_box()
        assert button is not None
        assert button["y"] >= log["y"] - 0.5, (index, button, log)
        assert button["y"] + button["height"] <= log["y"] + log["height"] + 0.5, (button, log)
        assert button["y"] + button["height"] <= composer["y"] + 0.5, (button, composer)


async def newest_in_view(page: Page) -> None:
    """The newest message is wholly inside the conversation's view."""
    log = await box(page, "#log")
    newest = await box(page, "#log > li.msg")
    assert newest["y"] >= log["y"] - 0.5 and newest["y"] + newest["height"] <= (
        log["y"] + log["height"] + 0.5
    ), (newest, log)


async def test_the_first_screen_greets_in_the_browsers_language_with_the_main_choices(
    chromium: object, served: str
) -> None:
    from playwright.async_api import expect

    async def norwegian(page: Page, screen: str) -> None:
        assert await page.evaluate("document.documentElement.lang") == "nb"
        welcome = page.locator(".msg.welcome")
        await expect(welcome).to_contain_text("Hei!")
        for label in ("Finn en tjeneste", "Snakk med en person", "Still et anonymt spørsmål"):
            await expect(welcome.get_by_role("button", name=label)).to_be_enabled()
        await expect(page.get_by_label("Språk")).to_be_visible()
        await expect(page.get_by_role("link", name="113")).to_have_attribute("href", "tel:113")
        await expect(page.get_by_role("link", name="116 111")).to_have_attribute(
            "href", "tel:116111"
        )
        await shot(page, f"webchat-first-{screen}")
        await choices_in_view(page)
        await no_axe_findings(page, f"first screen, {screen}")

        await page.get_by_label("Språk").select_option("uk")  # the switch, before any word
        assert await page.evaluate("document.documentElement.lang") == "uk"
        await expect(welcome.get_by_role("button", name="Знайти службу")).to_be_visible()
        await expect(page.get_by_label("Мова", exact=True)).to_have_value("uk")

    await on_each_screen(chromium, served, norwegian)

    async def ukrainian(page: Page, screen: str) -> None:
        assert await page.evaluate("document.documentElement.lang") == "uk"
        await expect(page.get_by_role("button", name="Поговорити з людиною")).to_be_visible()
        await press(page, "Знайти службу")
        newest = page.locator("#log > li.msg").last
        await expect(newest).to_contain_text("Про яку службу")  # answered in Ukrainian
        await expect(newest.get_by_role("button").first).to_be_enabled()
        await shot(page, f"webchat-services-uk-{screen}")
        await choices_in_view(page)
        await no_axe_findings(page, f"services menu in Ukrainian, {screen}")

        await page.get_by_label("Мова", exact=True).select_option("nb")  # the conversation too
        assert await page.evaluate("document.documentElement.lang") == "nb"
        await expect(page.locator(".msg.me .text").last).to_have_text("Norsk (bokmål)")
        await expect(page.locator("#log > li.msg").last).to_have_attribute("lang", "nb")
        await expect(
            page.get_by_role("button", name="Дитяча поліклініка (helsestasjon)")
        ).to_be_disabled()

    await on_each_screen(chromium, served, ukrainian, locale="uk-UA")


async def test_numbers_emails_and_addresses_are_links_and_a_tap_on_113_dials_it(
    chromium: object, served: str
) -> None:
    from playwright.async_api import expect

    async def links(page: Page, screen: str) -> None:
        await say(page, "hvor er helsestasjonen? ring meg på 41 22 33 44, www.evil.example")
        answer = page.locator(".msg.bot").last
        await expect(answer).to_contain_text("55 10 20 01")
        await expect(answer.get_by_role("link", name="55 10 20 01")).to_have_attribute(
            "href", "tel:+4755102001"
        )
        email = answer.get_by_role("link", name="helsestasjon@fjordvik.kommune.example")
        await expect(email).to_have_attribute(
            "href", "mailto:helsestasjon@fjordvik.kommune.example"
        )
        web = answer.get_by_role("link", name="https://www.fjordvik.kommune.example/helsestasjon")
        await expect(web).to_have_attribute(
            "href", "https://www.fjordvik.kommune.example/helsestasjon"
        )
        assert await page.locator(".msg.me a").count() == 0  # the citizen's words: no links
        hrefs = await page.eval_on_selector_all("a", "all => all.map(a => a.href)")
        assert all(h.startswith(("tel:", "mailto:", "https:")) for h in hrefs), hrefs
        overflow = await page.evaluate(
            "[...document.querySelectorAll('.msg')].some(m => m.scrollWidth > m.clientWidth + 1)"
        )
        assert not overflow, "a long address breaks out of its bubble"
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        await shot(page, f"webchat-links-{screen}")
        await no_axe_findings(page, f"links, {screen}")

        # A tap on the emergency number reaches the link (nothing covers it) and dials tel:113.
        await page.evaluate(
            """window.dialled = [];
            document.addEventListener('click', e => {
              const a = e.target.closest('a');
              if (a) { window.dialled.push(a.getAttribute('href')); e.preventDefault(); }
            }, true)"""
        )
        link = page.locator("#emergency").get_by_role("link", name="113")
        if screen == "phone":
            await link.tap()
        else:
            await link.click()
        assert await page.evaluate("window.dialled") == ["tel:113"]

    await on_each_screen(chromium, served, links)


async def test_the_newest_message_and_its_choices_are_in_view_and_focus_is_never_hidden(
    chromium: object, served: str, offline_app: App
) -> None:
    from playwright.async_api import expect

    async def intake(page: Page, screen: str) -> None:
        await press(page, "Snakk med en person")
        await expect(page.locator("#log > li.msg").last).to_contain_text("hvem gjelder det")
        await newest_in_view(page)
        await choices_in_view(page)
        await press(page, "Mitt barn")
        await press(page, "6-12 år")
        consent = page.locator("#log > li.msg").last
        await expect(consent).to_contain_text("Sier du ja?")
        await choices_in_view(page)  # the consent is long: its choices stay in view
        if screen == "phone":  # taller than the screen: it shows from its start
            log = await box(page, "#log")
            top = await consent.bounding_box()
            assert top is not None and top["y"] >= log["y"] - 0.5
        await shot(page, f"webchat-consent-{screen}")
        await no_axe_findings(page, f"consent, {screen}")

        # From the input, Shift+Tab reaches the paper clip, then the last choice: in view, not
        # under the input.
        await page.locator("#message").focus()
        await page.keyboard.press("Shift+Tab")
        await expect(page.locator(":focus")).to_have_id("attach")
        await page.keyboard.press("Shift+Tab")
        focused = page.locator(":focus")
        await expect(focused).to_have_text("Avbryt")
        button = await focused.bounding_box()
        composer = await box(page, "#composer")
        log = await box(page, "#log")
        assert button is not None
        assert button["y"] >= log["y"] and button["y"] + button["height"] <= composer["y"]
        await shot(page, f"webchat-focus-{screen}")

    await on_each_screen(chromium, served, intake)


async def test_a_reload_in_the_middle_of_an_intake_restores_it_and_a_typed_label_answers(
    chromium: object, served: str, offline_app: App
) -> None:
    from playwright.async_api import expect

    async def reload(page: Page, screen: str) -> None:
        await press(page, "Snakk med en person")
        await press(page, "Mitt barn")
        await expect(page.locator("#log > li.msg").last).to_contain_text("Hvor gammel")
        times = await page.locator("#log time").all_inner_texts()
        assert times and all(":" in t for t in times), times

        await page.reload()
        await expect(page.locator("#log > li.msg").last).to_contain_text("Hvor gammel")
        await expect(page.locator(".msg.welcome button:disabled")).to_have_count(3)
        pressed = page.locator(".choices button[aria-pressed=true]")
        await expect(pressed).to_have_text(["Snakk med en person", "Mitt barn"])
        await expect(page.locator(".msg.me .text")).to_have_text(
            ["Snakk med en person", "Mitt barn"]
        )
        for label in ("6-12 år", "13-17 år"):  # the newest choices: live
            await expect(page.get_by_role("button", name=label)).to_be_enabled()
        await expect(page.get_by_role("button", name="Et annet barn")).to_be_disabled()
        assert await page.locator("#log time").count() >= 4
        await choices_in_view(page)
        await shot(page, f"webchat-reloaded-{screen}")
        await no_axe_findings(page, f"reloaded intake, {screen}")

        await say(page, "6-12 år")  # the label, typed
        await expect(page.locator("#log > li.msg").last).to_contain_text("Sier du ja?")
        await expect(page.get_by_role("button", name="6-12 år")).to_be_disabled()

    await on_each_screen(chromium, served, reload)


async def test_a_double_tap_posts_once_and_the_summary_shows_one_send(
    chromium: object, served: str, offline_app: App
) -> None:
    from playwright.async_api import expect

    async def double(page: Page, screen: str) -> None:
        posts: list[str] = []
        page.on(
            "request",
            lambda r: posts.append(r.post_data or "") if r.url.endswith("/api/chat") else None,
        )
        await press(page, "Snakk med en person")
        await press(page, "Meg selv")
        await press(page, "18 eller eldre")
        yes = page.get_by_role("button", name="Ja, losen kan ta med tjenestene vi trenger")
        if screen == "phone":
            await yes.tap()
            await yes.tap(force=True)
        else:
            await yes.dblclick()
        await expect(page.locator("#log > li.msg").last).to_contain_text("Hopp over")
        assert sum("consent:services" in p for p in posts) == 1, posts
        await expect(page.locator(".msg.me", has_text="Ja, losen kan")).to_have_count(1)
        await press(page, "Hopp over")  # strengths first, skipped in one tap
        await expect(page.locator("#log > li.msg").last).to_contain_text("egne ord")

        await say(page, "Vi trenger hjelp med søvn og mat for sønnen vår som er 19.")
        await press(page, "Ferdig")
        await press(page, "Her i chatten")
        await expect(page.locator("#log > li.msg").last).to_contain_text("Dette sendes")
        await expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(1)
        await expect(page.get_by_role("button", name="Send til familielosen")).to_be_enabled()
        await choices_in_view(page)
        await shot(page, f"webchat-summary-{screen}")
        await no_axe_findings(page, f"summary, {screen}")

    await on_each_screen(chromium, served, double)
    with offline_app.store.sessions() as session:
        assert len(session.scalars(select(Consent)).all()) == 2  # one per visitor


async def test_an_arabic_phone_starts_in_arabic_and_a_typed_number_stays_in_order(
    chromium: object, served: str
) -> None:
    from playwright.async_api import expect

    async def arabic(page: Page, screen: str) -> None:
        assert await page.evaluate("document.documentElement.lang") == "ar"
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        await expect(page.get_by_role("button", name="تحدث مع شخص")).to_be_visible()
        await shot(page, f"webchat-first-ar-{screen}")
        await no_axe_findings(page, f"first screen in Arabic, {screen}")

        await say(page, "مرحبا، أين المركز الصحي للأطفال؟ رقمي 41 22 33 44")
        mine = page.locator(".msg.me").last
        number = mine.locator(".num")
        await expect(number).to_have_text("41 22 33 44")
        await expect(number).to_have_attribute("dir", "ltr")
        # Left to right on the screen: 41 first, 44 last.
        xs = await number.evaluate(
            """n => ['41', '44'].map(part => {
                const range = document.createRange();
                const at = n.textContent.indexOf(part);
                range.setStart(n.firstChild, at);
                range.setEnd(n.firstChild, at + 2);
                return range.getBoundingClientRect().x;
            })"""
        )
        assert xs[0] < xs[1], xs
        answer = page.locator(".msg.bot").last
        await expect(answer).to_have_attribute("lang", "ar")
        await expect(answer.get_by_role("link", name="55 10 20 01")).to_be_visible()
        await shot(page, f"webchat-arabic-{screen}")
        await no_axe_findings(page, f"Arabic conversation, {screen}")

    await on_each_screen(chromium, served, arabic, locale="ar")


async def test_a_crisis_answer_stands_out_and_is_announced(chromium: object, served: str) -> None:
    from playwright.async_api import expect

    async def crisis(page: Page, screen: str) -> None:
        await page.route(  # slow enough to see the typing indicator
            "**/api/chat", lambda route: asyncio.create_task(later(route))
        )
        await say(page, "jeg vil ikke leve lenger")
        await expect(page.locator("#typing")).to_be_visible()
        await shot(page, f"webchat-typing-{screen}")
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("113")
        await expect(page.locator("#typing")).to_be_hidden()
        bubble = page.locator(".msg.crisis")
        await expect(bubble).to_have_count(1)
        await expect(bubble.locator(".badge")).to_have_text("Viktig")
        await expect(bubble.get_by_role("link", name="113").first).to_have_attribute(
            "href", "tel:113"
        )
        style = await bubble.evaluate("e => getComputedStyle(e).borderTopColor")
        assert style == "rgb(165, 14, 14)", style
        await shot(page, f"webchat-crisis-{screen}")
        await no_axe_findings(page, f"crisis answer, {screen}")
        await page.reload()  # still marked after a reload, not announced again
        await expect(page.locator(".msg.crisis")).to_have_count(1)
        await expect(page.get_by_role("alert")).to_have_count(0)

    async def later(route: Any) -> None:
        await asyncio.sleep(0.6)
        await route.continue_()

    await on_each_screen(chromium, served, crisis)


async def test_a_los_reply_and_the_read_receipt_survive_a_reload(
    chromium: object, served: str, offline_app: App
) -> None:
    from playwright.async_api import expect

    context = await chromium.new_context(  # type: ignore[attr-defined]
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO"
    )
    page = await context.new_page()
    await page.goto(served + "/")
    await press(page, "Still et anonymt spørsmål")
    await say(page, "Jeg tror jeg drikker for mye på fester, hvem kan jeg snakke med?")
    await expect(page.locator(".msg.bot").last).to_contain_text("sendt anonymt")
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.view(item.reference, "kari")
    offline_app.queue.mark_read(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Hei! Ring oss gjerne på 55 10 20 04.")
    await expect(page.locator(".receipt")).to_contain_text("Los har lest meldingen din")
    los = page.locator(".msg.los")
    await expect(los.get_by_role("link", name="55 10 20 04")).to_be_visible()
    await page.reload()
    await expect(page.locator(".receipt")).to_contain_text("Los har lest meldingen din")
    await expect(page.locator(".msg.los")).to_contain_text("Ring oss gjerne")
    await shot(page, "webchat-los-reply-phone")
    await no_axe_findings(page, "los reply after a reload, phone")
    await context.close()


EMBEDDING_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Fjordvik</title></head>
<body><main><h1>Fjordvik kommune</h1><p>Barn, unge og familier.</p></main>
<script src="{served}/embed.js"></script></body></html>"""


@pytest.fixture
async def municipality(served: str) -> AsyncIterator[str]:
    """The municipality's own web site (another origin) with the one script tag."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def home(_: object) -> HTMLResponse:
        return HTMLResponse(EMBEDDING_PAGE.format(lang="en", served=served))

    async with serving(Starlette(routes=[Route("/", home)])) as url:
        yield url.replace("127.0.0.1", "localhost") + "/"  # another origin than the chat's


async def test_the_embed_panel_has_a_header_closes_with_its_button_and_escape_and_speaks_the_page(
    chromium: object, municipality: str
) -> None:
    from playwright.async_api import expect

    for screen, viewport in SCREENS.items():
        context = await chromium.new_context(  # type: ignore[attr-defined]
            viewport=viewport, is_mobile=screen == "phone", has_touch=screen == "phone"
        )
        page = await context.new_page()
        await page.goto(municipality)
        launcher = page.get_by_role("button", name="Chat with us")
        await launcher.click()
        panel = page.get_by_role("dialog", name="Ask Fjordvik kommune")
        await expect(panel).to_be_visible()
        close = panel.get_by_role("button", name="Close the chat")
        await expect(close).to_be_focused()
        chat = page.frame_locator("iframe")
        await expect(chat.get_by_role("button", name="Talk to a person")).to_be_visible()
        await shot(page, f"webchat-embed-open-{screen}")
        await no_axe_findings(page, f"embed panel open, {screen}")

        await page.keyboard.press("Escape")
        await expect(panel).to_be_hidden()
        await expect(launcher).to_be_focused()
        await launcher.click()
        await chat.get_by_role("button", name="Talk to a person").focus()
        await page.keyboard.press("Escape")  # inside the chat's frame too
        await expect(panel).to_be_hidden()
        await expect(launcher).to_be_focused()
        await launcher.click()
        await close.click()
        await expect(panel).to_be_hidden()
        await shot(page, f"webchat-embed-closed-{screen}")
        await no_axe_findings(page, f"embed panel closed, {screen}")
        await context.close()
