"""The child's own voice before a meeting (min mening i ditt møte): the los who holds a
15-year-old's case sends "Før møtet"; the young person gets the questions one at a time in
the web chat, in their language, answers, skips or stops; the los sees the answers on the
case page marked as the child's own words, prints them for the meeting, finds them in the
archive record; a leader edits the set and the next send uses it; a los who does not hold
the case cannot send. The answers are in "mine data" and go with the case."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot import staff_cli
from bot.app import App
from bot.archive.document import Composer
from bot.console.present import Presenter
from bot.store.models import AuditEntry, Case, OwnVoiceAnswerRecord, OwnVoiceRound, OwnVoiceSet
from bot.store.question_sets import QuestionSets, SetText
from bot.store.retention import run_retention
from tests.console_fixtures import signed_in
from tests.fakes.clock import FakeClock
from tests.staff_browser import StaffBrowser
from tests.test_journeys import parent_sends_a_case
from tests.test_staff_access import cli, token_for

TEEN_WORDS = "Jeg er 15 og det er mye krangling hjemme. Jeg vil ha hjelp før det blir verre."
UK_WORDS = "Мені 15, вдома постійно сваряться, і я не можу зосередитися в школі."


@dataclass
class Teen:
    """A 15-year-old in the web chat, through the real HTTP API."""

    client: httpx.AsyncClient
    app: App
    token: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    async def says(self, text: str = "", button: str | None = None) -> list[dict[str, Any]]:
        self.count += 1
        body: dict[str, Any] = {"text": text, "id": f"m-{self.count}", "language": "nb"}
        if button is not None:
            body["button"] = button
        headers = {"X-Chat-Token": self.token} if self.token else {}
        answer = await self.client.post("/api/chat", json=body, headers=headers)
        assert answer.status_code == 200
        self.token = answer.json()["token"]
        replies: list[dict[str, Any]] = answer.json()["replies"]
        self.seen.extend(replies)
        return replies

    async def polls(self) -> list[dict[str, Any]]:
        """What arrived from the los side (after the server handled what happened)."""
        await self.app.router.process_pending()
        answer = await self.client.post("/api/poll", headers={"X-Chat-Token": self.token})
        messages: list[dict[str, Any]] = answer.json()["messages"]
        self.seen.extend(messages)
        return messages


@pytest.fixture
async def chat(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang.local"
    ) as client:
        yield client


async def teen_sends_a_case(
    chat: httpx.AsyncClient, app: App, words: str = TEEN_WORDS, language: str = "nb"
) -> tuple[Teen, str]:
    """A 15-year-old asks for a person about themselves, consents, and sends."""
    teen = Teen(chat, app)
    await teen.says(words)
    if language != "nb":
        await teen.says("", button=f"lang:{language}")
    await teen.says("", button="person")
    await teen.says("", button="about:self")
    await teen.says("", button="age:13-17")
    await teen.says("", button="consent:services")
    await teen.says(words)
    await teen.says("", button="done")
    await teen.says("", button="contact:chat")
    await teen.says("", button="confirm:send")
    [item] = app.queue.open_cases("kari")
    assert item.language == language
    return teen, item.reference


def set_id(app: App, language: str) -> int:
    with app.store.sessions() as session:
        found = session.scalar(select(OwnVoiceSet.id).where(OwnVoiceSet.language == language))
        assert found is not None
        return int(found)


async def los_sends(kari: StaffBrowser, app: App, reference: str, language: str) -> None:
    page = await kari.get(f"/staff/case/{reference}")
    assert "Send spørsmål før møtet" in page.text
    sent = await kari.post(
        f"/staff/case/{reference}/own-voice",
        {"set": str(set_id(app, language)), "meeting_date": "2026-12-01", "meeting_time": "14:00"},
    )
    assert sent.status_code == 303, sent.text


async def asked(chat: httpx.AsyncClient, kari: StaffBrowser, app: App) -> tuple[Teen, str]:
    """A 15-year-old's case, Kari takes it and sends "Før møtet"; the first question is in
    the young person's chat."""
    teen, reference = await teen_sends_a_case(chat, app)
    await kari.post(f"/staff/case/{reference}/claim")
    await los_sends(kari, app, reference, "nb")
    await teen.polls()
    return teen, reference


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["text"]) for m in messages]


async def test_a_15_year_old_answers_the_questions_the_los_sent_and_she_sees_them_as_their_own_words(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, reference = await teen_sends_a_case(chat, app)
    await kari.post(f"/staff/case/{reference}/claim")
    await los_sends(kari, app, reference, "nb")

    arrived = texts(await teen.polls())
    assert "Før møtet vil vi gjerne høre hva du mener" in arrived[0]
    assert "Møtet er tirsdag 1. desember 14:00." in arrived[0]  # Oslo time, in bokmål
    assert arrived[1] == "Spørsmål 1 av 3: Hva er viktigst for deg?"
    assert [b["label"] for b in teen.seen[-1]["buttons"]] == ["Hopp over", "Stopp her"]

    second = await teen.says(
        "At jeg får være med og bestemme, og at jeg kan fortsette med fotball."
    )
    assert texts(second) == ["Spørsmål 2 av 3: Hva vil du at de voksne skal vite?"]
    third = await teen.says("At jeg liker skolen, men trenger litt ro til lekser.")
    assert texts(third) == ["Spørsmål 3 av 3: Hvem vil du ha med?"]
    thanks = await teen.says("Mormor. Og helsesykepleieren på skolen.")
    assert "Takk! Svarene dine er sendt til familielosen." in texts(thanks)[0]

    page = await kari.get(f"/staff/case/{reference}")
    section = page.text.split('id="own-voice"', 1)[1].split("</section>", 1)[0]
    assert "Barnets egne ord" in section
    assert "Ferdig: 3 av 3 besvart" in section
    assert "Møtet: 01.12.2026 kl. 14:00 CET" in section
    for question, answer in (
        ("Hva er viktigst for deg?", "fortsette med fotball"),
        ("Hva vil du at de voksne skal vite?", "ro til lekser"),
        ("Hvem vil du ha med?", "Mormor. Og helsesykepleieren"),
    ):
        assert re.search(
            re.escape(question) + r"</dt>\s*<dd>.*?" + re.escape(answer), section, re.S
        )

    talk = page.text.split('class="messages"', 1)[1]  # in the conversation too, marked
    assert talk.count('<span class="tag tag-own">Barnets egne ord</span>') == 3

    printed = await kari.get(f"/staff/case/{reference}/own-voice")
    assert printed.status_code == 200 and "Mormor. Og helsesykepleieren" in printed.text
    # After the questions the conversation goes back to the los: a message is relayed again.
    assert await teen.says("Når er møtet igjen?") == []
    assert app.queue.view(reference, "kari").conversation[-1].text == "Når er møtet igjen?"


async def test_a_ukrainian_teen_gets_the_questions_in_ukrainian_and_can_skip_one(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, reference = await teen_sends_a_case(chat, app, UK_WORDS, "uk")
    await kari.post(f"/staff/case/{reference}/claim")
    await los_sends(kari, app, reference, "uk")
    arrived = texts(await teen.polls())
    assert arrived[-1] == "Запитання 1 з 3: Що для тебе найважливіше?"
    assert "Зустріч відбудеться вівторок 1 грудня 14:00." in arrived[0]
    skipped = await teen.says("", button="ownvoice:skip")
    assert texts(skipped) == ["Запитання 2 з 3: Що ти хочеш, щоб дорослі знали?"]
    typed_skip = await teen.says("Пропустити")  # the label typed is the same press
    assert texts(typed_skip) == ["Запитання 3 з 3: Кого ти хочеш взяти з собою?"]
    await teen.says("Тітку Олену.")
    page = await kari.get(f"/staff/case/{reference}")
    section = page.text.split('id="own-voice"', 1)[1].split("</section>", 1)[0]
    assert section.count("Hoppet over") == 2 and "Тітку Олену." in section
    assert "Ferdig: 1 av 3 besvart" in section


async def test_the_young_person_can_stop_and_what_they_answered_is_kept_and_shown_at_the_terminal(
    chat: httpx.AsyncClient,
    kari: StaffBrowser,
    offline_app: App,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = offline_app
    teen, reference = await asked(chat, kari, app)
    await teen.says("At ingen andre på skolen får vite det.")
    stopped = await teen.says("", button="ownvoice:stop")
    assert "vi stopper her" in texts(stopped)[0]
    [voiced] = app.queue.view(reference, "kari").own_voice
    assert voiced.status == "stopped" and voiced.answered == 1
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(app, "kari"))
    capsys.readouterr()
    assert cli(app, "queue", "show", reference, "--as", "kari") == 0
    shown = capsys.readouterr().out
    assert "the child's own words (Før møtet, stopped):" in shown
    assert "Hva er viktigst for deg? At ingen andre på skolen får vite det." in shown
    assert "Hvem vil du ha med? -" in shown


async def test_a_crisis_in_an_answer_gets_the_crisis_answer_and_ends_the_questions(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, reference = await asked(chat, kari, app)
    replies = texts(await teen.says("Jeg vil ikke leve lenger"))
    assert any("113" in r for r in replies)
    assert not any("Spørsmål 2 av 3" in r for r in replies)
    [item] = [i for i in app.queue.open_cases("kari") if i.reference == reference]
    assert item.priority == "urgent"
    [voiced] = app.queue.view(reference, "kari").own_voice
    assert voiced.status == "stopped"
    assert voiced.answers[0].text == "Jeg vil ikke leve lenger"


async def test_a_leader_edits_the_set_and_the_next_send_uses_it(
    web: Starlette, chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    chosen = set_id(app, "nb")
    async with signed_in(web, "leder") as leder:
        page = await leder.get("/staff/own-voice")
        assert page.status_code == 200 and "Hva vil du at de voksne skal vite?" in page.text
        edited = await leder.post(
            "/staff/own-voice",
            {
                "id": str(chosen),
                "language": "nb",
                "title": "Før møtet",
                "intro": "Hei! Vi møtes snart.",
                "questions": "Hva liker du å gjøre?\n\nHva vil du endre?",
                "thanks": "Takk for svarene!",
            },
        )
        assert edited.status_code == 303
        empty = await leder.post(
            "/staff/own-voice",
            {
                "language": "nb",
                "title": "Tom",
                "intro": "Hei",
                "questions": "\n  \n",
                "thanks": "Takk",
            },
        )
        assert empty.status_code == 400
        assert "Skriv navn, innledning, minst ett spørsmål og takken." in empty.text
        assert 'value="Tom"' in empty.text  # what she wrote is kept
    los_cannot = await kari.post(
        "/staff/own-voice",
        {
            "id": str(chosen),
            "language": "nb",
            "title": "x",
            "intro": "x",
            "questions": "x",
            "thanks": "x",
        },
    )
    assert los_cannot.status_code == 403
    with app.store.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry))]
    assert "question_set_changed" in actions

    teen, reference = await teen_sends_a_case(chat, app)
    await kari.post(f"/staff/case/{reference}/claim")
    await los_sends(kari, app, reference, "nb")
    arrived = texts(await teen.polls())
    assert arrived == [
        "Hei! Vi møtes snart.\n\nMøtet er tirsdag 1. desember 14:00.",
        "Spørsmål 1 av 2: Hva liker du å gjøre?",
    ]
    await teen.says("Spille fotball.")
    assert texts(await teen.says("At vi spiser middag sammen oftere."))[-1] == "Takk for svarene!"


async def test_a_los_who_does_not_hold_the_case_cannot_send(
    web: Starlette, chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, reference = await teen_sends_a_case(chat, app)
    chosen = str(set_id(app, "nb"))
    refused = await kari.post(f"/staff/case/{reference}/own-voice", {"set": chosen})
    assert refused.status_code == 409  # nobody holds it yet
    await kari.post(f"/staff/case/{reference}/claim")
    half = {"set": chosen, "meeting_date": "2026-12-01", "meeting_time": ""}
    unclear = await kari.post(f"/staff/case/{reference}/own-voice", half)
    assert unclear.status_code == 400 and "Skriv både dato og klokkeslett" in unclear.text
    async with signed_in(web, "ahmed") as ahmed:
        page = await ahmed.get(f"/staff/case/{reference}")
        assert "Send spørsmål før møtet" not in page.text
        refused = await ahmed.post(f"/staff/case/{reference}/own-voice", {"set": chosen})
        assert refused.status_code == 409
        assert "bare losen som har saken" in refused.text
    async with signed_in(web, "per") as per:  # a service member never sends
        assert (
            await per.post(f"/staff/case/{reference}/own-voice", {"set": chosen})
        ).status_code == 403
    assert await teen.polls() == []
    with app.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OwnVoiceRound)) == 0


async def test_the_answers_are_in_mine_data_in_the_archive_record_and_go_with_the_case(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    app = offline_app
    teen, reference = await asked(chat, kari, app)
    await teen.says("At jeg får bestemme litt selv.")
    await teen.says("", button="ownvoice:stop")
    mine = texts(await teen.says("/mine_data"))
    assert "Dine svar før møtet («Før møtet»):" in mine[-1]
    assert "At jeg får bestemme litt selv." in mine[-1]

    record = app.queue.export(reference, "kari", lambda r: (r, "sha256=test"))
    composer = Composer(kari_presenter(app), "Fjordvik kommune")
    [section] = [
        s
        for s in composer.compose(record, "kari", clock()).sections
        if s.title == "Barnets egne ord"
    ]
    assert [e.text for e in section.entries] == ["At jeg får bestemme litt selv."]

    app.queue.close(reference, "kari", "answered")
    clock.advance(days=app.settings.retention.closed_case_days + 400)
    run_retention(app.settings, app.store.sessions, clock)
    with app.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(OwnVoiceRound)) == 0
        assert session.scalar(select(func.count()).select_from(OwnVoiceAnswerRecord)) == 0


async def test_withdrawing_consent_deletes_the_answers(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, reference = await asked(chat, kari, app)
    await teen.says("Et svar jeg angrer på.")
    await teen.says("trekk samtykke")
    assert app.queue.view(reference, "kari").own_voice == ()
    with app.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OwnVoiceAnswerRecord)) == 0


async def test_deleting_my_data_deletes_the_answers(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, _ = await asked(chat, kari, app)
    await teen.says("Hemmelig svar.")
    await teen.says("/slett")
    await teen.says("", button="delete:yes")
    with app.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OwnVoiceRound)) == 0
        assert session.scalar(select(func.count()).select_from(OwnVoiceAnswerRecord)) == 0


def kari_presenter(app: App) -> Presenter:
    return Presenter(
        app.catalogs,
        "nb",
        app.settings.municipality.timezone,
        app.queue.clock,
        app.router.staffing.name,
    )


async def test_a_parent_of_a_younger_child_answers_in_the_terminal_where_1_is_skip(
    offline_app: App,
) -> None:
    """The family answers for a younger child, on a channel without buttons (the numbered
    choices): the questions come through the outbox like any los message."""
    app = offline_app
    parent, reference = await parent_sends_a_case(app)
    app.queue.claim(reference, "kari")
    sets = QuestionSets(app.store.sessions, app.queue.clock)
    added = sets.save(
        None,
        SetText(
            "nb",
            "Foreldre",
            "Før møtet om barnet ditt.",
            ("Hva går bra?", "Hva er vanskelig?"),
            "Takk.",
        ),
        "leder",
    )
    assert added is not None
    sets.send(reference, "kari", added.id, None)
    arrived = await parent.inbox()
    assert arrived[0] == "Før møtet om barnet ditt."
    assert arrived[1].startswith("Spørsmål 1 av 2: Hva går bra?")
    assert "1. Hopp over" in arrived[1] and "2. Stopp her" in arrived[1]
    await parent.says("1")
    assert parent.last().startswith("Spørsmål 2 av 2: Hva er vanskelig?")
    await parent.says("Morgenene før skolen.")
    assert parent.last() == "Takk."
    [voiced] = app.queue.view(reference, "kari").own_voice
    assert [a.text for a in voiced.answers] == [None, "Morgenene før skolen."]
    assert voiced.answers[0].skipped
