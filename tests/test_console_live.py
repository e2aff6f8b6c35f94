"""The live queue and the case log in the console: a los sees a new case appear without
reloading (the page asks /staff/queue.json, which is read only, needs the session, answers an
unchanged queue with a 304 and holds no citizen text), with the unread count and the waiting
time against the target; she writes a note on the case page, which shows it in the
conversation as a note never sent to the citizen."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.app import App
from bot.store.models import AuditEntry, Outbox
from tests.fakes.clock import FakeClock
from tests.staff_browser import StaffBrowser
from tests.test_console import PASSWORD, asks_anonymously, audit_actions
from tests.test_journeys import parent_sends_a_case

QUESTION = "jeg har ingen steder å sove i natt"


async def test_a_los_sees_a_new_case_appear_without_reloading(
    kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    page = await kari.get("/staff")
    assert 'data-live="/staff/queue.json"' in page.text and "Oppdater listen" in page.text
    assert "http-equiv" not in page.text  # no meta refresh
    empty = await kari.get("/staff/queue.json")
    assert empty.status_code == 200 and empty.json()["cases"] == []
    await asks_anonymously(offline_app, "night", QUESTION)
    clock.advance(minutes=7)
    feed = (await kari.get("/staff/queue.json")).json()
    [case] = feed["cases"]
    assert case["urgent"] and case["open"] and case["unread"] == 1
    assert case["new_text"] == (
        f"Ny sak som haster, {case['reference']}: ikke noe sted å bo eller sove (nettchat)"
    )
    assert case["reference"] in feed["html"]["cases"]
    assert "venter 7 min – over målet (5 min)" in feed["html"]["cases"]
    assert 'class="badge">1 ulest' in feed["html"]["cases"]
    assert (
        feed["heading"]
        == (await kari.get("/staff")).text.split('id="cases-heading">')[1].split("<")[0]
    )
    assert 'action="/staff/duty"' in feed["html"]["duty"]  # who is on duty, and her switch


async def test_an_unchanged_queue_costs_a_304(kari: StaffBrowser, offline_app: App) -> None:
    await asks_anonymously(offline_app, "night", QUESTION)
    first = await kari.get("/staff/queue.json")
    etag = first.headers["etag"]
    again = await kari.get("/staff/queue.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    await asks_anonymously(offline_app, "second", "hvor er helsestasjonen?")
    changed = await kari.get("/staff/queue.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json()["cases"]) == 2


async def test_a_citizen_message_raises_the_unread_count_live(
    kari: StaffBrowser, offline_app: App
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.mark_read(reference, "kari")
    before = (await kari.get("/staff/queue.json")).json()
    assert [c["unread"] for c in before["cases"]] == [0]
    await parent.says("Han nekter å gå på skolen i dag.")
    after = (await kari.get("/staff/queue.json")).json()
    [case] = after["cases"]
    assert case["unread"] == 1 and case["mine"]
    assert case["unread_text"] == f"Ny melding fra innbyggeren i sak {reference} (1 ulest)"


async def test_the_feed_is_read_only_and_holds_no_citizen_text(
    kari: StaffBrowser, offline_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await asks_anonymously(offline_app, "night", QUESTION)
    with offline_app.store.sessions() as session:
        audited = len(session.scalars(select(AuditEntry)).all())
    caplog.set_level(logging.DEBUG)
    feed = await kari.get("/staff/queue.json")
    assert QUESTION not in feed.text
    assert QUESTION not in caplog.text
    with offline_app.store.sessions() as session:
        assert len(session.scalars(select(AuditEntry)).all()) == audited  # nothing written
    assert (await kari.client.post("/staff/queue.json")).status_code == 405


async def test_the_feed_needs_a_session_and_a_queue_role(
    stranger: StaffBrowser, kari: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "night", QUESTION)
    nobody = await stranger.client.get("/staff/queue.json")
    assert nobody.status_code == 401 and nobody.json() == {"signed_out": True}
    cross = await kari.client.get("/staff/queue.json", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("per", "Per PPT", "service", "ppt", offline_app.router.clock())
    assert (await stranger.sign_in("per", PASSWORD)).status_code == 303
    assert (await stranger.client.get("/staff/queue.json")).status_code == 403


async def test_polling_does_not_keep_an_idle_session_alive(
    kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    idle = offline_app.settings.console.idle_minutes
    for _ in range(idle // 5 + 1):
        clock.advance(minutes=5)
        if (await kari.client.get("/staff/queue.json")).status_code == 401:
            break
    assert (await kari.client.get("/staff/queue.json")).status_code == 401
    assert (await kari.client.get("/staff")).status_code == 303  # signed out


async def test_a_los_adds_a_note_on_the_case_page_never_sent_to_the_citizen(
    kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    page = await kari.get(f"/staff/case/{reference}")
    assert '<label for="note">Notat til saken (stafettlogg)</label>' in page.text
    clock.advance(minutes=4)
    note = "Ringte mor, avtalte møte torsdag. <b>ikke</b> fet"
    saved = await kari.post(f"/staff/case/{reference}/note", {"note": note})
    assert saved.status_code == 303 and saved.headers["location"].endswith("#notes")
    page = await kari.get(f"/staff/case/{reference}")
    assert "Notat – ikke sendt til innbyggeren" in page.text
    assert "Ringte mor, avtalte møte torsdag. &lt;b&gt;ikke&lt;/b&gt; fet" in page.text
    assert "Kari Los" in page.text and "24.11.2026 kl. 10:34 CET" in page.text
    assert page.text.index("Han sover dårlig også.") < page.text.index("Ringte mor")
    assert ("kari", "note") in audit_actions(offline_app)
    with offline_app.store.sessions() as session:
        assert note not in list(session.scalars(select(Outbox.text)))
    assert note not in " ".join([*parent.seen, *await parent.inbox()])


async def test_an_empty_note_is_refused_with_a_sentence(
    kari: StaffBrowser, offline_app: App
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    await kari.get(f"/staff/case/{reference}")
    refused = await kari.post(f"/staff/case/{reference}/note", {"note": "  "})
    assert refused.status_code == 400
    assert "Notatet er tomt. Skriv noe før du lagrer." in refused.text
    missing = await kari.post("/staff/case/K-NOSUCH/note", {"note": "hei"})
    assert missing.status_code == 404
    no_token = await kari.post(f"/staff/case/{reference}/note", {"note": "hei"}, csrf="x")
    assert no_token.status_code == 403


async def test_a_case_handed_to_her_is_announced_once(kari: StaffBrowser, offline_app: App) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "ahmed")
    before = (await kari.get("/staff/queue.json")).json()
    assert before["notices"] == []
    offline_app.queue.transfer(reference, "ahmed", "kari")
    after = (await kari.get("/staff/queue.json")).json()
    [notice] = after["notices"]
    assert (
        notice["reference"] == reference and notice["text"] == f"Sak overført til deg ({reference})"
    )
    assert f'data-notice="{notice["id"]}"' in after["html"]["notices"]
