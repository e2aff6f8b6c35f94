"""Saved answers: a los answering an Arabic case is offered the Arabic saved answers with her
own name put in, inserts one into the reply box and changes it before sending (nothing is sent
by inserting); a leader keeps the lists (add, change, remove, audited); a los cannot change
them; what a leader removed stays removed after a restart."""

from __future__ import annotations

import re

from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.store.models import Outbox, SavedAnswer
from bot.web import create_web_app
from tests.console_fixtures import PASSWORD
from tests.staff_browser import StaffBrowser
from tests.test_console import asks_anonymously, audit_actions

ARABIC_QUESTION = "ابني عمره ١٤ سنة حزين جدا ولا يريد الذهاب إلى المدرسة، أين أجد مساعدة؟"


def answer_ids(app: App, language: str) -> dict[str, int]:
    with app.store.sessions() as session:
        rows = session.scalars(select(SavedAnswer).where(SavedAnswer.language == language))
        return {row.title: row.id for row in rows}


async def an_arabic_case(app: App) -> str:
    await asks_anonymously(app, "web-ar-1", ARABIC_QUESTION)
    [item] = app.queue.open_cases("kari")
    assert item.language == "ar"
    return item.reference


async def test_a_los_is_offered_the_cases_language_with_her_name_put_in(
    kari: StaffBrowser, offline_app: App
) -> None:
    reference = await an_arabic_case(offline_app)
    await kari.post(f"/staff/case/{reference}/claim")
    page = await kari.get(f"/staff/case/{reference}")
    assert "Sett inn et lagret svar (5)" in page.text
    assert "اسمي Kari" in page.text  # {los} filled in, in the Arabic greeting
    assert "{los}" not in page.text and "{kommune}" not in page.text
    assert "Hei! Jeg heter" not in page.text  # the bokmål ones are not offered here


async def test_without_the_script_inserting_reloads_with_the_answer_in_the_box_and_sends_nothing(
    kari: StaffBrowser, offline_app: App
) -> None:
    reference = await an_arabic_case(offline_app)
    await kari.post(f"/staff/case/{reference}/claim")
    interpreter = answer_ids(offline_app, "ar")["Tilby tolk"]
    page = await kari.get(f"/staff/case/{reference}?answer={interpreter}")
    box = re.search(r'<textarea id="text"[^>]*>([^<]*)</textarea>', page.text)
    assert box and "مترجم" in box.group(1)
    with offline_app.store.sessions() as session:
        assert not session.scalars(select(Outbox).where(Outbox.sender == "los")).all()
    edited = box.group(1) + " (عربي/kurdî)"
    sent = await kari.post(f"/staff/case/{reference}/reply", {"text": edited})
    assert sent.status_code == 303
    view = offline_app.queue.view(reference, "kari")
    assert view.conversation[-1].text == edited


async def test_a_leader_adds_changes_and_removes_an_answer_and_each_is_audited(
    web: Starlette, offline_app: App
) -> None:
    async with StaffBrowser(web) as leder:
        await leder.sign_in("leder", PASSWORD)
        page = await leder.get("/staff/answers")
        assert page.status_code == 200 and "Nytt svar på polsk" in page.text
        added = await leder.post(
            "/staff/answers",
            {"language": "pl", "title": "Godziny otwarcia", "text": "Jesteśmy otwarci 8–15."},
        )
        assert added.status_code == 303
        new_id = answer_ids(offline_app, "pl")["Godziny otwarcia"]
        page = await leder.get(added.headers["location"])
        assert "Svaret er lagt til." in page.text
        changed = await leder.post(
            "/staff/answers",
            {"id": str(new_id), "language": "pl", "title": "Godziny", "text": "Od 8 do 15."},
        )
        assert changed.status_code == 303 and "Godziny" in answer_ids(offline_app, "pl")
        removed = await leder.post(f"/staff/answers/{new_id}/remove")
        assert removed.status_code == 303 and new_id not in answer_ids(offline_app, "pl").values()
    actions = audit_actions(offline_app)
    for action in ("saved_answer_added", "saved_answer_changed", "saved_answer_removed"):
        assert ("leder", action) in actions


async def test_an_incomplete_answer_is_refused_with_a_sentence_and_kept(
    web: Starlette, offline_app: App
) -> None:
    async with StaffBrowser(web) as leder:
        await leder.sign_in("leder", PASSWORD)
        await leder.get("/staff/answers")
        refused = await leder.post(
            "/staff/answers", {"language": "nb", "title": "", "text": "Vi ringer deg i morgen."}
        )
        assert refused.status_code == 400
        assert "Velg språk og skriv både tittel og tekst." in refused.text
        assert "Vi ringer deg i morgen." in refused.text


async def test_a_los_reads_the_answers_but_cannot_change_them(
    kari: StaffBrowser, offline_app: App
) -> None:
    page = await kari.get("/staff/answers")
    assert page.status_code == 200 and "Tilby tolk" in page.text
    assert 'action="/staff/answers"' not in page.text
    before = answer_ids(offline_app, "nb")
    refused = await kari.post(
        "/staff/answers", {"language": "nb", "title": "Mitt", "text": "Mitt eget svar."}
    )
    assert refused.status_code == 403 and answer_ids(offline_app, "nb") == before


async def test_answers_a_leader_removed_stay_removed_after_a_restart(
    web: Starlette, offline_app: App
) -> None:
    async with StaffBrowser(web) as leder:
        await leder.sign_in("leder", PASSWORD)
        await leder.get("/staff/answers")
        for answer_id in answer_ids(offline_app, "so").values():
            await leder.post(f"/staff/answers/{answer_id}/remove")
    assert answer_ids(offline_app, "so") == {}
    create_web_app(offline_app, staff_password=PASSWORD)  # the next start seeds nothing
    assert answer_ids(offline_app, "so") == {}
    assert len(answer_ids(offline_app, "nb")) == 5
