"""The web chat in a real Chromium (Debian's package, driven by Playwright): a teenager asks
anonymously on a phone-sized screen, asks for a person, a los replies, the reply appears;
reloads and lost connections lose nothing; Arabic is right to left; axe finds no serious
accessibility problems. And its API (no browser needed): the token travels in a header,
never in an address; only tokens the server issued are accepted; nothing is cached; a GET
changes nothing; every response carries the security headers."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from bot.app import App
from bot.channels.web_chat import ChatTokens
from bot.store.models import Conversation, Message
from bot.web import create_web_app
from tests.fakes.telegram_api import free_port

browser = pytest.mark.browser
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
    # The language detector is built on the first message (seconds on a busy machine): build
    # it now, so the page's first answer is not timed against it.
    offline_app.understander.guesser.detect("hvor er helsestasjonen?", None)
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


@browser
async def test_a_teenager_asks_anonymously_and_a_los_answers_in_the_page(
    page: object, offline_app: App
) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "hvor er helsestasjonen?")
    await expect(page.locator(".msg.bot:not(.welcome)").last).to_contain_text("55 10 20 01")
    await page.get_by_role("button", name="Snakk med en person").last.click()
    await expect(page.get_by_role("button", name="Meg selv")).to_be_visible()
    await page.get_by_role("button", name="Meg selv").click()
    await page.get_by_role("button", name="13-17 år").click()
    await page.get_by_role("button", name="Spør anonymt i stedet").click()
    await say(page, "Jeg tror jeg drikker for mye på fester, hvem kan jeg snakke med?")
    # a 13-17-year-old about herself: the youth voice ("...ingen vet hvem du er")
    await expect(page.locator(".msg.bot:not(.welcome)").last).to_contain_text(
        "ingen vet hvem du er"
    )

    [item] = offline_app.queue.open_cases("kari")
    assert item.anonymous and item.channel == "web"
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.view(item.reference, "kari")
    offline_app.queue.mark_read(item.reference, "kari")  # the page shows a receipt
    offline_app.queue.reply(item.reference, "kari", "Hei! Så bra at du skriver. Vi kan prate her.")
    await expect(page.locator(".receipt")).to_contain_text("Los har lest meldingen din")
    await expect(page.locator(".msg.los")).to_contain_text("Så bra at du skriver")

    await page.reload()  # the conversation survives a reload (a token in the browser only)
    await expect(page.locator(".msg.los")).to_contain_text("Så bra at du skriver")
    stored = await page.evaluate("Object.keys(localStorage)")
    assert set(stored) <= {"inngang-token", "inngang-outbox"}


@browser
async def test_in_the_phone_s_chat_familielosen_skriver_shows_then_her_message(
    page: object, offline_app: App
) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "/anonym")
    await say(page, "Hvordan kan jeg hjelpe sønnen min som ikke vil på skolen?")
    await expect(page.locator(".msg.bot:not(.welcome)").last).to_contain_text("sendt anonymt")
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.typing(item.reference, "kari")
    indicator = page.locator("#typing")
    await expect(indicator).to_be_visible()
    await expect(indicator).to_contain_text("Familielosen skriver")
    await page.screenshot(path="/tmp/los-typing-390.png")
    offline_app.queue.reply(item.reference, "kari", "Hei! Jeg heter Kari.")
    await expect(page.locator(".msg.los")).to_contain_text("Jeg heter Kari")
    await expect(indicator).to_be_hidden()


@browser
async def test_a_message_written_offline_is_sent_when_the_connection_is_back(page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.context.set_offline(True)
    await say(page, "hvem kan hjelpe med lekser?")
    await expect(page.locator("#status")).to_contain_text("Ingen forbindelse")
    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator(".msg.bot:not(.welcome)").last).not_to_be_empty()


@browser
async def test_arabic_is_answered_right_to_left(page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "مرحبا، أين المركز الصحي للأطفال؟")
    bubble = page.locator(".msg.bot:not(.welcome)").last
    await expect(bubble).to_have_attribute("lang", "ar")
    assert await bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert await page.evaluate("document.documentElement.dir") == "rtl"


@browser
async def test_the_page_has_no_serious_accessibility_violations(page: object) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await say(page, "hei")
    await expect(page.get_by_role("button", name="Snakk med en person").last).to_be_visible()
    results = await Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [v["id"] for v in serious]


@browser
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
    loaded = [ref for ref in references if not ref.startswith(("tel:", "mailto:"))]  # links
    assert loaded and all(ref.startswith("/") for ref in loaded), references
    code = "\n".join(line for line in snippet.text.splitlines() if not line.startswith("//"))
    address = re.compile(r"https?://[\w.-]")  # only its own origin: no address anywhere
    assert not address.search(code) and not address.search(script.text)


@browser
async def test_a_new_visitor_who_types_fast_stays_in_one_conversation_and_loses_nothing(
    page: object, offline_app: App
) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    for text in ("hei", "hvor er PPT?", "takk"):
        await page.get_by_label("Meldingen din").fill(text)
        await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".msg.bot:not(.welcome)")).to_have_count(3)
    await expect(page.locator(".msg.bot:not(.welcome)").nth(1)).to_contain_text("55 10 20 03")
    with offline_app.store.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert [m.text for m in inbound] == ["hei", "hvor er PPT?", "takk"]
        assert len({m.conversation_id for m in inbound}) == 1


# --- the API, without a browser ----------------------------------------------------------------

INVENTED = "a-token-the-visitor-made-up-herself-0123456789"


@pytest.fixture
async def api(offline_app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_web_app(offline_app)),
        base_url="http://inngang.local",
    ) as client:
        yield client


async def first_contact(api: httpx.AsyncClient, text: str = "hei") -> str:
    """A new visitor's first message: the server issues the token."""
    answer = await api.post("/api/chat", json={"text": text, "id": "m-1"})
    assert answer.status_code == 200
    token = answer.json()["token"]
    assert isinstance(token, str)
    return token


def conversations(app: App) -> int:
    with app.store.sessions() as session:
        return len(session.scalars(select(Conversation)).all())


async def test_the_server_issues_the_token_and_it_travels_in_a_header(
    api: httpx.AsyncClient,
) -> None:
    token = await first_contact(api)
    header = {"X-Chat-Token": token}
    again = await api.post("/api/chat", json={"text": "hvor er PPT?"}, headers=header)
    assert again.status_code == 200 and again.json()["token"] == token
    in_body = await api.post("/api/chat", json={"text": "takk", "token": token})
    assert in_body.status_code == 200 and in_body.json()["token"] == token
    history = await api.get("/api/history", headers=header)
    texts = [m["text"] for m in history.json()["messages"] if m["sender"] == "me"]
    assert texts == ["hei", "hvor er PPT?", "takk"]
    assert (await api.post("/api/poll", headers=header)).json() == {"messages": [], "los_typing": False}


async def test_a_token_in_the_address_is_refused(api: httpx.AsyncClient, offline_app: App) -> None:
    token = await first_contact(api)
    for response in (
        await api.get("/api/history", params={"token": token}),
        await api.post("/api/poll", params={"token": token}),
        await api.post("/api/chat", params={"token": token}, json={"text": "hei"}),
        await api.get("/api/history", params={"token": token}, headers={"X-Chat-Token": token}),
    ):
        assert response.status_code == 400
        assert response.json() == {"error": "token_in_query"}
    assert conversations(offline_app) == 1


async def test_an_invented_token_is_refused_and_nothing_is_recorded(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    real = await first_contact(api)
    nonce, _, mac = real.partition(".")
    other_server = ChatTokens(b"another secret").issue()
    for token in (INVENTED, f"{nonce}.{mac[::-1]}", f"{nonce[::-1]}.{mac}", other_server, nonce):
        header = {"X-Chat-Token": token}
        for response in (
            await api.post("/api/chat", json={"text": "hei"}, headers=header),
            await api.post("/api/chat", json={"text": "hei", "token": token}),
            await api.post("/api/poll", headers=header),
            await api.get("/api/history", headers=header),
        ):
            assert response.status_code == 401, token
            assert response.json() == {"error": "invalid_token"}
    for response in (await api.post("/api/poll"), await api.get("/api/history")):
        assert response.status_code == 401 and response.json() == {"error": "missing_token"}
    assert conversations(offline_app) == 1  # only the real visitor's


async def test_nothing_the_chat_answers_is_kept_by_a_cache(api: httpx.AsyncClient) -> None:
    token = await first_contact(api)
    header = {"X-Chat-Token": token}
    for response in (
        await api.get("/api/history", headers=header),
        await api.post("/api/poll", headers=header),
        await api.post("/api/chat", json={"text": "takk"}, headers=header),
        await api.post("/api/chat", json={"text": "takk"}, headers={"X-Chat-Token": INVENTED}),
    ):
        assert response.headers["cache-control"] == "no-store"


async def test_a_get_changes_nothing_and_poll_is_a_post(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    token = await first_contact(api, "/anonym")
    header = {"X-Chat-Token": token}
    await api.post("/api/chat", json={"text": "hvem kan hjelpe med lekser?"}, headers=header)
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Hei! Vi kan hjelpe.")

    assert (await api.get("/api/poll", headers=header)).status_code == 405
    first = (await api.get("/api/history", headers=header)).json()
    assert (await api.get("/api/history", headers=header)).json() == first
    polled = (await api.post("/api/poll", headers=header)).json()["messages"]
    assert [m["text"] for m in polled if m["sender"] == "los"] == ["Hei! Vi kan hjelpe."]
    assert (await api.post("/api/poll", headers=header)).json() == {"messages": [], "los_typing": False}


async def test_every_response_has_the_security_headers_and_only_the_chat_page_is_embeddable(
    api: httpx.AsyncClient,
) -> None:
    token = await first_contact(api)
    page = await api.get("/", params={"lang": "ar"})
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    for response in (
        page,
        await api.get("/api/history", headers={"X-Chat-Token": token}),
        await api.post("/api/poll", headers={"X-Chat-Token": INVENTED}),
        await api.get("/embed.js"),
        await api.get("/static/chat.js"),
        await api.get("/healthz"),
        await api.get("/readyz"),
        await api.get("/no-such-page"),
        await api.get("/staff"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["referrer-policy"] in ("no-referrer", "same-origin")
        if response.url.path != "/":
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"


@browser
async def test_the_page_never_puts_the_token_in_an_address_and_replaces_a_refused_one(
    page: object,
) -> None:
    from playwright.async_api import Page, Request, expect

    assert isinstance(page, Page)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    await say(page, "hei")
    await expect(page.locator(".msg.bot:not(.welcome)")).to_have_count(1)
    token = await page.evaluate("localStorage.getItem('inngang-token')")
    assert token and "." in token
    async with page.expect_request(lambda r: r.url.endswith("/api/poll")) as polled:
        pass
    poll = await polled.value
    assert poll.method == "POST" and poll.headers["x-chat-token"] == token
    await page.reload()
    await expect(page.locator(".msg.bot:not(.welcome)")).to_have_count(1)  # history, by header
    assert not [r.url for r in requests if "token" in r.url]

    # A token the server does not know (made up, or from before): the page gets a new one.
    await page.evaluate(f"localStorage.setItem('inngang-token', '{INVENTED}')")
    await page.reload()
    await say(page, "hvor er PPT?")
    await expect(page.locator(".msg.bot:not(.welcome)").last).to_contain_text("55 10 20 03")
    renewed = await page.evaluate("localStorage.getItem('inngang-token')")
    assert renewed not in (INVENTED, token) and "." in renewed


# --- links, history, choices, language (the API) -----------------------------------------------


async def test_the_municipalitys_facts_come_as_safe_links_and_the_citizens_words_never(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.post(
        "/api/chat", json={"text": "hvor er helsestasjonen? ring meg på 41 22 33 44"}
    )
    [reply] = answer.json()["replies"]
    links = {p["text"]: p["href"] for p in reply["parts"] if "href" in p}
    assert links == {
        "55 10 20 01": "tel:+4755102001",
        "helsestasjon@fjordvik.kommune.example": "mailto:helsestasjon@fjordvik.kommune.example",
        "https://www.fjordvik.kommune.example/helsestasjon": (
            "https://www.fjordvik.kommune.example/helsestasjon"
        ),
    }
    assert "".join(p["text"] for p in reply["parts"]) == reply["text"]
    history = await api.get("/api/history", headers={"X-Chat-Token": answer.json()["token"]})
    mine = history.json()["messages"][0]
    assert mine["sender"] == "me" and "parts" not in mine  # nothing the citizen wrote


def test_only_configured_facts_become_links_and_only_tel_mailto_and_https() -> None:
    from bot.channels.links import LinkFacts

    facts = LinkFacts.from_facts(
        [
            "113",
            "116 111",
            "55 10 20 01",
            "a@b.example",
            "https://x.example/p",
            "http://plain.example",
            "javascript:alert(1)",
            "ring 2 ganger",
        ]
    )
    assert set(facts.hrefs.values()) == {
        "tel:113",
        "tel:116111",
        "tel:+4755102001",
        "mailto:a@b.example",
        "https://x.example/p",
    }
    parts = facts.parts("Ring 113, ikke 1130 eller 55 10 20 011; skriv a@b.example.")
    assert [p["text"] for p in parts if "href" in p] == ["113", "a@b.example"]
    arabic = facts.parts("اتصل بـ \u2068113\u2069 الآن")  # inside the isolates of an RTL text
    assert [p.get("href") for p in arabic] == [None, "tel:113", None]


async def test_a_reload_gets_the_choices_the_choice_pressed_and_the_read_receipt(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    answer = await api.post("/api/chat", json={"button": "person", "language": "nb"})
    token = answer.json()["token"]
    header = {"X-Chat-Token": token}
    await api.post("/api/chat", json={"button": "about:child"}, headers=header)
    messages = (await api.get("/api/history", headers=header)).json()["messages"]
    assert [m["sender"] for m in messages] == ["me", "bot", "me", "bot"]
    assert [m["text"] for m in messages if m["sender"] == "me"] == [
        "Snakk med en person",  # the first screen's label
        "Mitt barn",  # the label pressed
    ]
    asked_about, asked_age = messages[1], messages[3]
    assert asked_about["chosen"] == "about:child" and asked_about["live"] is False
    assert asked_age["live"] is True and "chosen" not in asked_age
    assert [b["label"] for b in asked_age["buttons"]] == ["0-5 år", "6-12 år", "13-17 år", "Avbryt"]
    assert all(m["time"].startswith("2026-11-24T09:30") for m in messages)

    await api.post("/api/chat", json={"text": "/anonym"}, headers=header)
    await api.post("/api/chat", json={"text": "Hvem kan hjelpe med lekser?"}, headers=header)
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.mark_read(item.reference, "kari")
    polled = (await api.post("/api/poll", headers=header)).json()["messages"]
    assert [m["receipt"] for m in polled] == [True]
    after = (await api.get("/api/history", headers=header)).json()["messages"]
    assert after[-1]["receipt"] is True and after[-1]["text"] == "Los har lest meldingen din."


async def test_a_double_tap_on_consent_records_it_once_and_answers_once(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    from bot.store.models import Consent

    token = (await api.post("/api/chat", json={"button": "person"})).json()["token"]
    header = {"X-Chat-Token": token}
    for button in ("about:self", "age:18+"):
        await api.post("/api/chat", json={"button": button}, headers=header)
    first = await api.post(
        "/api/chat", json={"button": "consent:services", "id": "tap-1"}, headers=header
    )
    second = await api.post(
        "/api/chat", json={"button": "consent:services", "id": "tap-2"}, headers=header
    )
    assert "Hopp over" in first.json()["replies"][-1]["text"]  # strengths first
    assert second.json()["replies"] == []  # the second tap of a choice already answered
    with offline_app.store.sessions() as session:
        assert len(session.scalars(select(Consent)).all()) == 1
    messages = (await api.get("/api/history", headers=header)).json()["messages"]
    pressed = [m["text"] for m in messages if m["sender"] == "me"]
    assert pressed.count("Ja, losen kan ta med tjenestene vi trenger") == 1
    assert messages[-1]["live"] is True  # "Hopp over" can still be pressed
    skipped = await api.post("/api/chat", json={"button": "strengths:skip"}, headers=header)
    assert "egne ord" in skipped.json()["replies"][-1]["text"]
    await api.post("/api/chat", json={"text": "Vi trenger hjelp med søvn."}, headers=header)
    done = await api.post("/api/chat", json={"text": "Ferdig"}, headers=header)
    assert "kontakte deg" in done.json()["replies"][0]["text"]

    # The summary's button says what it sends (the input has its own Send), and typed works.
    summary = await api.post("/api/chat", json={"button": "contact:chat"}, headers=header)
    labels = [b["label"] for b in summary.json()["replies"][0]["buttons"]]
    assert labels == ["Send til familielosen", "Endre", "Avbryt"]
    sent = await api.post("/api/chat", json={"text": "Send til familielosen"}, headers=header)
    assert sent.json()["replies"][0]["text"].startswith("Sendt. Referansen din er")
    assert len(offline_app.queue.open_cases("kari")) == 1


async def test_a_first_press_answers_in_the_pages_language_and_the_page_starts_in_the_browsers(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.post("/api/chat", json={"button": "services", "language": "uk"})
    [menu] = answer.json()["replies"]
    assert menu["language"] == "uk" and menu["text"].startswith("Про яку службу")
    assert "topic:ppt" in [b["payload"] for b in menu["buttons"]] and menu["live"] is True
    page = await api.get("/", headers={"Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in page.text
    assert '<a href="tel:113" dir="ltr">113</a>' in page.text
    fallback = await api.get("/", headers={"Accept-Language": "de-DE,sv;q=0.8"})
    assert '<html lang="nb" dir="ltr">' in fallback.text
    asked = await api.get("/", params={"lang": "pl"}, headers={"Accept-Language": "ar"})
    assert '<html lang="pl" dir="ltr">' in asked.text
    snippet = await api.get("/embed.js")
    assert '"close": "Close the chat"' in snippet.text and "{/*texts*/}" not in snippet.text


async def test_a_crisis_answer_is_marked_in_the_answer_and_after_a_reload(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.post("/api/chat", json={"text": "jeg vil ikke leve lenger"})
    replies = answer.json()["replies"]
    assert [r["crisis"] for r in replies] == [True, False]  # the answer; the case note
    assert {"text": "113", "href": "tel:113"} in replies[0]["parts"]
    header = {"X-Chat-Token": answer.json()["token"]}
    history = (await api.get("/api/history", headers=header)).json()["messages"]
    assert [m.get("crisis") for m in history] == [None, True, False]
