"""Strengths first, end to end: a 15-year-old in the web chat is greeted "Halla!", tells what
she likes and is good at before the problems, and the los reads that at the top of the case
page, in `inngang queue show` and in the archive record; "mine data" shows it, and deleting
the data or withdrawing consent deletes it. Through the real web chat API, router and console."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.store.models import AuditEntry, Case
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.test_archive_export import export, pdf_text
from tests.test_staff_access import cli, token_for


@pytest.fixture
async def chat(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The web chat API of the same web app the los signs in to."""
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://inngang.local") as client:
        yield client


STRENGTHS = "Jeg spiller håndball og er ganske god til å tegne manga."
WORDS = "Det er mye krangling hjemme, og jeg klarer ikke å konsentrere meg på skolen."


async def post(chat: httpx.AsyncClient, token: str | None, **message: str) -> list[str]:
    headers = {"X-Chat-Token": token} if token else {}
    answer = await chat.post("/api/chat", json=message, headers=headers)
    assert answer.status_code == 200
    return [reply["text"] for reply in answer.json()["replies"]]


async def a_15_year_old_sends_a_case(app: App, chat: httpx.AsyncClient) -> str:
    """Halla, a person, about me, 13-17, consent, strengths, her words, chat, send."""
    first = await chat.post("/api/chat", json={"text": "Halla! Hva skjer?"})
    token = first.json()["token"]
    [hello] = [r["text"] for r in first.json()["replies"]]
    assert hello.startswith("Halla! Jeg er chatten")
    age = app.settings.consent_age
    for button in ("person", "about:self", f"age:{age}-17"):
        await post(chat, token, button=button)
    asked = await post(chat, token, button="consent:los")
    assert "Hva liker du å gjøre? Hva er du god på?" in asked[-1]
    await post(chat, token, text=STRENGTHS)
    await post(chat, token, text=WORDS)
    await post(chat, token, button="done")
    await post(chat, token, button="contact:chat")
    sent = await post(chat, token, button="confirm:send")
    assert sent[0].startswith("Sånn, da er det sendt!")
    [item] = app.queue.open_cases("kari")
    return item.reference


async def test_halla_in_the_web_chat_is_answered_in_the_youth_voice_and_god_dag_plainly(
    chat: httpx.AsyncClient,
) -> None:
    young = await post(chat, None, text="Halla! Hva skjer?")
    adult = await post(chat, None, text="God dag. Jeg ønsker informasjon om helsestasjonen.")
    assert young[0].startswith("Halla! Jeg er chatten til Fjordvik kommune")
    assert adult[0].startswith("Helsestasjonen i Fjordvik kommune")
    assert "Bra at du spør" not in adult[0] and "Halla" not in adult[0]


async def test_the_los_reads_what_the_young_person_is_good_at_first_on_the_case_page(
    offline_app: App, chat: httpx.AsyncClient, kari: StaffBrowser
) -> None:
    reference = await a_15_year_old_sends_a_case(offline_app, chat)
    page = html.unescape((await kari.get(f"/staff/case/{reference}")).text)
    top = page.index("Det barnet liker og mestrer (med egne ord)")
    assert top < page.index(STRENGTHS) < page.index('id="facts-heading"') < page.index(WORDS)
    with offline_app.store.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "kari"))
        assert "read_case" in list(actions)  # reading it is audited, like the rest of the case


async def test_queue_show_and_the_archive_record_put_the_strengths_first(
    offline_app: App,
    chat: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot import staff_cli

    reference = await a_15_year_old_sends_a_case(offline_app, chat)
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(offline_app, "kari"))
    capsys.readouterr()
    assert cli(offline_app, "queue", "show", reference, "--as", "kari") == 0
    shown = capsys.readouterr().out
    assert f"strengths: « {STRENGTHS} »" in shown
    assert shown.index(STRENGTHS) < shown.index(WORDS)
    assert cli(offline_app, "queue", "--json", "show", reference, "--as", "kari") == 0
    assert json.loads(capsys.readouterr().out)["strengths"] == STRENGTHS

    assert offline_app.queue.claim(reference, "kari")
    flat = " ".join(pdf_text(export(offline_app, reference).pdf).split())
    assert flat.index("Det barnet liker og mestrer") < flat.index(STRENGTHS) < flat.index(WORDS)


async def a_parent_sends(app: App, user: str, strengths: str, words: str) -> Citizen:
    """A parent's intake about a child of 6-12, with what goes well and what does not."""
    parent = Citizen(app, user)
    for button in ("person", "about:child", "age:6-12", "consent:services"):
        await parent.says("", button=button)
    for text in (strengths, words):
        await parent.says(text)
    for button in ("done", "contact:chat", "confirm:send"):
        await parent.says("", button=button)
    return parent


async def test_mine_data_shows_the_strengths_and_deleting_deletes_them(offline_app: App) -> None:
    strengths = "Han elsker fotball og er stolt av at han kan svømme."
    words = "Han har vondt i magen hver morgen før skolen."
    parent = await a_parent_sends(offline_app, "parent-strengths", strengths, words)
    await parent.says("/mine_data")
    assert "Det som går bra: Han elsker fotball og er stolt av at han kan svømme." in parent.last()
    await parent.says("slett mine data")
    await parent.says("", button="delete:yes")
    with offline_app.store.sessions() as session:
        assert session.scalars(select(Case)).first() is None


async def test_withdrawing_consent_deletes_the_strengths_with_the_words(offline_app: App) -> None:
    words = "Hun sover nesten ikke om natta."
    parent = await a_parent_sends(offline_app, "parent-withdraws", "Hun ler mye og elsker å synge.", words)
    [item] = offline_app.queue.open_cases("kari")
    assert offline_app.queue.view(item.reference, "kari").strengths == "Hun ler mye og elsker å synge."
    await parent.says("trekk samtykke")
    with offline_app.store.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert "synge" not in case.description and case.description == "[]"


@pytest.mark.parametrize(("channel", "typed"), [("sms", "1"), ("telegram", "hopp over")])
async def test_skipping_is_one_answer_on_every_channel(
    offline_app: App, channel: str, typed: str
) -> None:
    parent = Citizen(offline_app, f"skips-on-{channel}", channel=channel)
    for button in ("person", "about:child", "age:0-5", "consent:los"):
        await parent.says("", button=button)
    assert "Hopp over" in parent.last()
    await parent.says(typed)  # the number of the choice, or its label typed
    assert "egne ord" in parent.last()
    await parent.says("Hun sover nesten ikke om natta.")
    for button in ("done", "contact:chat"):
        await parent.says("", button=button)
    assert "Det som går bra" not in parent.last()
