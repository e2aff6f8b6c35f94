"""Calls at a time that suits, end to end: Kari publishes Thursday's slots in the console; a
parent in the web chat presses "Ring meg", picks Thursday 10:30, gives the number, sends,
and is told the time; Kari sees the call in "Dagens samtaler" and on the case page; the
reminder arrives in the chat 30 minutes before. A Polish parent on the jsonl channel types
"czwartek 10:30" and later hears in Polish that the call was moved. Of two families who
chose the last free slot, the second is told kindly and offered the next ones, also when
both were sure it was free. Deleting one's data frees the slot. A service member sees no
calls; every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.callback_jobs import CallbackJobs
from bot.router import Router
from bot.store.callbacks import Callbacks
from bot.store.models import AuditEntry
from flows.callback import stamp
from tests.console_fixtures import signed_in
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.test_own_voice import Teen, chat  # noqa: F401  (the web chat over HTTP)

THU = "2026-11-26"
THU_1030 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
THU_1100 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PARENT_WORDS = (
    "Datteren min på 9 år har sluttet å spise på skolen, og vi vet ikke hva vi skal gjøre."
)
POLISH_WORDS = "Moja córka ma 9 lat i przestała jeść w szkole, nie wiemy, co robić."
PHONE = "98 76 54 32"


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons") or []]


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r["text"]) for r in replies)


async def kari_publishes_thursday(kari: StaffBrowser) -> None:
    published = await kari.post(
        "/staff/calls", {"day": THU, "from": "10:00", "to": "12:00", "every": "30"}
    )
    assert published.status_code == 303
    page = await kari.get(published.headers["location"])
    assert "4 nye tider er lagt ut." in page.text


async def to_contact_step(parent: Teen | Citizen, words: str = PARENT_WORDS) -> None:
    await parent.says(words)
    await parent.says("", button="person")
    await parent.says("", button="about:child")
    await parent.says("", button="age:6-12")
    await parent.says("", button="consent:services")
    await parent.says("", button="strengths:skip")
    await parent.says("", button="done")


async def test_a_parent_in_the_web_chat_books_thursday_1030_and_is_reminded_before_the_call(
    chat: httpx.AsyncClient,  # noqa: F811
    kari: StaffBrowser,
    offline_app: App,
    clock: FakeClock,
) -> None:
    app = offline_app
    await kari_publishes_thursday(kari)
    parent = Teen(chat, app)
    await to_contact_step(parent)

    offered = await parent.says("", button="contact:call")
    assert "Når passer det at familielosen ringer deg? Velg en tid (norsk tid):" in texts(offered)
    labels = [b["label"] for b in buttons(offered)]
    assert labels[:4] == [
        "torsdag 26. november 10:00",
        "torsdag 26. november 10:30",
        "torsdag 26. november 11:00",
        "torsdag 26. november 11:30",
    ]
    assert labels[4:6] == ["Når som helst", "En annen tid (skriv)"]
    thursday = next(b for b in buttons(offered) if b["label"] == "torsdag 26. november 10:30")
    asked = await parent.says("", button=thursday["payload"])
    assert texts(asked).startswith("Hvilket telefonnummer skal losen ringe?")
    summary = await parent.says(PHONE)
    assert f"Ring meg torsdag 26. november 10:30 på {PHONE}" in texts(summary)
    sent = await parent.says("", button="confirm:send")
    assert "Familielosen ringer deg torsdag 26. november 10:30 (norsk tid)." in texts(sent)
    assert "Du får en påminnelse 30 minutter før." in texts(sent)
    [item] = app.queue.open_cases("kari")

    day = await kari.get(f"/staff/calls?day={THU}")
    assert day.status_code == 200 and "Samtaler torsdag 26. november 2026" in day.text
    row = day.text.split(f'<a href="/staff/case/{item.reference}">')[1].split("</tr>")[0]
    assert "bokmål" in row and "Ikke tatt ennå" in row and "Avtalt" in row
    assert "10:30–11:00" in day.text.split(item.reference)[0].rsplit("<tr", 1)[1]
    case_page = await kari.get(f"/staff/case/{item.reference}")
    assert "Avtalt samtale" in case_page.text and "26.11.2026 kl. 10:30 CET" in case_page.text
    assert PHONE in case_page.text  # the number, from the case

    jobs = CallbackJobs(app.settings.callbacks, Callbacks(app.store.sessions, clock),
                        app.router.schedule, clock)  # fmt: skip
    clock.now = THU_1030 - timedelta(minutes=29)
    assert jobs.remind() == 1 and jobs.remind() == 0
    arrived = texts(await parent.polls())
    assert (
        f"Påminnelse: Familielosen ringer deg torsdag 26. november 10:30 (norsk tid) om saken "
        f"din ({item.reference})." in arrived
    )
    assert (await parent.polls()) == []  # once


async def test_a_polish_parent_on_jsonl_types_czwartek_1030_and_hears_in_polish_it_was_moved(
    kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    await kari_publishes_thursday(kari)
    parent = Citizen(app, "pl-parent", channel="jsonl")
    await parent.says("", button="lang:pl")
    await to_contact_step(parent, POLISH_WORDS)
    await parent.says("", button="contact:call")
    assert "czwartek 26 listopada 10:00" in parent.last()  # numbered, in Polish
    await parent.says("czwartek 10:30")
    assert parent.last().startswith("Na jaki numer telefonu ma zadzwonić los?")
    await parent.says("+48 601 234 567")
    assert "czwartek 26 listopada 10:30" in parent.last()
    await parent.says("1")  # the first choice under the summary: send
    assert "Familielos zadzwoni do Ciebie w terminie: czwartek 26 listopada 10:30" in parent.last()
    [item] = app.queue.open_cases("kari")
    assert item.language == "pl"

    day = await kari.get(f"/staff/calls?day={THU}")
    slot = day.text.split(f'<a href="/staff/case/{item.reference}">')[0].rsplit('id="call-', 1)[1]
    slot_id = slot.split('"')[0]
    moved = await kari.post(f"/staff/calls/{slot_id}/move", {"to": stamp(THU_1100), "day": THU})
    assert moved.status_code == 303
    assert await parent.inbox() == [
        f"Familielos przełożył rozmowę w Twojej sprawie ({item.reference}). "
        "Nowy termin: czwartek 26 listopada 11:00 (czas norweski)."
    ]
    day = await kari.get(f"/staff/calls?day={THU}")
    assert "11:00–11:30" in day.text.split(item.reference)[0].rsplit("<tr", 1)[1]

    [call] = [c for c in Callbacks(app.store.sessions, app.router.clock).between(
        THU_1100, THU_1100 + timedelta(minutes=1)) if c.reference]  # fmt: skip
    cancelled = await kari.post(f"/staff/calls/{call.slot_id}/cancel", {"day": THU})
    assert cancelled.status_code == 303
    [told] = await parent.inbox()
    assert "nie może jednak zadzwonić w terminie czwartek 26 listopada 11:00" in told
    case_page = await kari.get(f"/staff/case/{item.reference}")
    assert "Når som helst i åpningstiden" in case_page.text
    with app.store.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("callback%"))
        ).all()
    assert actions == ["callbacks_published", "callback_moved", "callback_cancelled"]


async def families_at_the_summary(app: App) -> tuple[Citizen, Citizen]:
    """Two families who both chose Thursday 10:30 (the only free slot) and are at the
    summary."""
    Callbacks(app.store.sessions, app.router.clock).publish("kari", [THU_1030], 30)
    first, second = Citizen(app, "family-a"), Citizen(app, "family-b")
    for family in (first, second):
        await to_contact_step(family)
        await family.says("", button="contact:call")
        await family.says("1")
        await family.says(PHONE)
        assert "Ring meg torsdag 26. november 10:30" in family.last()
    return first, second


async def test_of_two_families_who_chose_the_last_slot_the_second_is_told_kindly(
    offline_app: App,
) -> None:
    app = offline_app
    calls = Callbacks(app.store.sessions, app.router.clock)
    first, second = await families_at_the_summary(app)
    calls.publish("ahmed", [THU_1100], 30)  # one more free slot meanwhile
    await first.says("", button="confirm:send")
    assert "ringer deg torsdag 26. november 10:30" in first.last()
    await second.says("", button="confirm:send")
    assert "Beklager, den tiden ble nettopp tatt." in second.seen[-2]
    assert "1. torsdag 26. november 11:00" in second.last()
    assert "10:30" not in second.last()
    await second.says("1")
    assert "Ring meg torsdag 26. november 11:00" in second.last()
    await second.says("", button="confirm:send")
    assert "ringer deg torsdag 26. november 11:00" in second.last()
    booked = [c.reference for c in calls.between(THU_1030, THU_1100 + timedelta(minutes=1))]
    assert len(set(booked)) == 2 and None not in booked


async def test_when_both_saw_the_slot_free_the_booking_decides_and_the_second_is_asked_again(
    offline_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both families' steps are computed while the slot still looks free; the booking when
    the case is saved is atomic: the second step is undone and asked again."""
    app = offline_app
    first, second = await families_at_the_summary(app)
    await first.says("", button="confirm:send")
    real = Router.callback_slots
    stale = [True]

    def as_before(self: Router, state: Any, now: datetime, *rest: Any) -> tuple[datetime, ...]:
        if stale.pop() if stale else False:
            return (THU_1030,)  # computed before the first family's case was saved
        return real(self, state, now, *rest)  # the schedule and the area

    monkeypatch.setattr(Router, "callback_slots", as_before)
    await second.says("", button="confirm:send")
    assert not stale  # the stale view was used once
    assert "Beklager, den tiden ble nettopp tatt." in second.seen[-2]
    assert app.queue.open_cases("kari")[0].reference not in second.last()
    assert len(app.queue.open_cases("kari")) == 1  # the second case was not opened


async def test_my_data_shows_the_booked_call_and_deleting_it_frees_the_slot(
    offline_app: App,
) -> None:
    app = offline_app
    calls = Callbacks(app.store.sessions, app.router.clock)
    first, _ = await families_at_the_summary(app)
    await first.says("", button="confirm:send")
    [call] = calls.between(THU_1030, THU_1030 + timedelta(minutes=1))
    assert call.reference is not None
    await first.says("/mine_data")
    assert "Avtalt samtale: torsdag 26. november 10:30 (norsk tid)" in first.last()
    await first.says("/slett")
    await first.says("", button="delete:yes")
    [call] = calls.between(THU_1030, THU_1030 + timedelta(minutes=1))
    assert call.reference is None  # free again, offered again


async def test_a_service_member_sees_no_calls_and_a_stranger_cannot_publish(
    web: Any, stranger: StaffBrowser
) -> None:
    async with signed_in(web, "per") as per:
        assert (await per.get("/staff/calls")).status_code == 403
    refused = await stranger.client.post(
        "/staff/calls", data={"day": THU, "from": "10:00", "to": "12:00", "every": "30"}
    )
    assert refused.status_code in (303, 403)


async def test_times_outside_opening_hours_are_left_out_and_said_so(kari: StaffBrowser) -> None:
    # Tuesday 1 December closes at 15:30: 14:00, 14:30 and 15:00 fit, 15:30-17:00 do not.
    published = await kari.post(
        "/staff/calls", {"day": "2026-12-01", "from": "14:00", "to": "17:00", "every": "30"}
    )
    page = await kari.get(published.headers["location"])
    assert "3 nye tider er lagt ut." in page.text
    assert "3 var utenfor åpningstiden eller på en helligdag" in page.text
    christmas = await kari.post(
        "/staff/calls", {"day": "2026-12-25", "from": "10:00", "to": "11:00", "every": "30"}
    )
    page = await kari.get(christmas.headers["location"])
    assert "0 nye tider er lagt ut." in page.text and "2 var utenfor" in page.text


async def test_a_crisis_at_the_number_step_opens_the_urgent_case_even_when_the_slot_is_gone(
    offline_app: App,
) -> None:
    """Danger first: the family chose a time, someone else booked it meanwhile, then they
    write of danger while giving the number: the urgent case opens at once (with "any
    time"), never held back by the slot."""
    app = offline_app
    calls = Callbacks(app.store.sessions, app.router.clock)
    calls.publish("kari", [THU_1030], 30)
    family, other = Citizen(app, "family-c"), Citizen(app, "family-d")
    for someone in (family, other):
        await to_contact_step(someone)
        await someone.says("", button="contact:call")
        await someone.says("1")
    await other.says(PHONE)
    await other.says("", button="confirm:send")  # the other family books Thursday 10:30
    handled = await family.says("stefaren hennes slår henne, ring 41 22 33 44")
    assert handled.crisis and "113" in " ".join(family.seen[-2:])
    [urgent] = [i for i in app.queue.open_cases("kari") if i.priority == "urgent"]
    assert calls.wish(urgent.reference)[0] == "any"
