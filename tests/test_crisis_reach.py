"""Every crisis reaches a person at once, day and night: a crisis flag in any phase puts an
urgent case in the queue (or marks the open one urgent) and tells the on-duty los and the
leader, without the citizen pressing or writing anything more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from bot.notifications import ON_CALL
from bot.store.models import Case, Message, StaffNotification
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.test_journeys import parent_sends_a_case

DANGER = "stefaren min slår meg"
Setup = Callable[[Citizen, App], Awaitable[None]]


async def idle(c: Citizen, application: App) -> None:
    await c.says("hei")


async def about_step(c: Citizen, application: App) -> None:
    await c.says("", button="person")


async def age_step(c: Citizen, application: App) -> None:
    await about_step(c, application)
    await c.says("", button="about:self")


async def consent_step(c: Citizen, application: App) -> None:
    await age_step(c, application)
    await c.says("", button="age:13-17")


async def describe_step(c: Citizen, application: App) -> None:
    await consent_step(c, application)
    await c.says("", button="consent:los")
    await c.says("", button="strengths:skip")
    await c.says("Jeg har det ikke bra hjemme.")


async def contact_step(c: Citizen, application: App) -> None:
    await describe_step(c, application)
    await c.says("", button="done")


async def callback_step(c: Citizen, application: App) -> None:
    await contact_step(c, application)
    await c.says("", button="contact:call")


async def confirm_step(c: Citizen, application: App) -> None:
    await contact_step(c, application)
    await c.says("", button="contact:chat")


async def anonymous_question(c: Citizen, application: App) -> None:
    await c.says("/anonym")


async def after_stop(c: Citizen, application: App) -> None:
    await describe_step(c, application)
    await c.says("/stopp")


async def after_close(c: Citizen, application: App) -> None:
    _, reference = await parent_sends_a_case(application, c.user)
    assert application.queue.claim(reference, "ahmed")
    application.queue.close(reference, "ahmed", "done")
    await c.inbox()


async def confirming_delete(c: Citizen, application: App) -> None:
    await idle(c, application)
    await c.says("/slett")


PHASES: dict[str, Setup] = {
    "idle": idle,
    "intake: who": about_step,
    "intake: age": age_step,
    "intake: consent": consent_step,
    "intake: own words": describe_step,
    "intake: contact": contact_step,
    "intake: call-back number": callback_step,
    "intake: summary": confirm_step,
    "anonymous question": anonymous_question,
    "after /stopp": after_stop,
    "after the case was closed": after_close,
    "confirming a deletion": confirming_delete,
}


def open_cases_of(application: App, user: Citizen) -> list[Case]:
    address = application.router.address(user.channel, user.user)
    with application.store.sessions() as session:
        from bot.store.models import Conversation

        conversation = session.scalars(
            select(Conversation).where(Conversation.address_hash == address)
        ).one()
        return list(
            session.scalars(
                select(Case).where(
                    Case.conversation_id == conversation.id,
                    Case.status.in_(("open", "claimed")),
                )
            )
        )


def notified(application: App, reference: str) -> set[tuple[str, str]]:
    with application.store.sessions() as session:
        rows = session.scalars(
            select(StaffNotification).where(StaffNotification.case_reference == reference)
        )
        return {(n.staff_id, n.kind) for n in rows}


@pytest.mark.parametrize("phase", list(PHASES))
async def test_danger_in_any_phase_puts_an_urgent_case_before_a_person_at_once(
    offline_app: App, phase: str
) -> None:
    citizen = Citizen(offline_app, f"citizen-{phase}")
    await PHASES[phase](citizen, offline_app)
    handled = await citizen.says(DANGER)
    assert handled.crisis and "112" in handled.replies[0].text
    assert not any(b.payload == "done" for r in handled.replies for b in r.buttons)
    [case] = open_cases_of(offline_app, citizen)
    assert case.urgent and case.crisis_category == "violence_abuse"
    assert any(case.reference in r.text for r in handled.replies)
    told = notified(offline_app, case.reference)
    assert {"ahmed", "leder"} <= {staff for staff, _ in told}  # Tuesday: ahmed is on duty
    view = offline_app.queue.view(case.reference, "ahmed")
    shown = [*view.description, *(text for _, _, text in view.messages)]
    assert DANGER in shown


async def test_danger_while_a_los_holds_the_case_marks_it_urgent_and_tells_her(
    offline_app: App,
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    assert offline_app.queue.claim(reference, "ahmed")
    handled = await parent.says(DANGER)
    assert handled.crisis
    [case] = open_cases_of(offline_app, parent)
    assert case.reference == reference and case.urgent
    assert ("ahmed", "crisis") in notified(offline_app, reference)
    assert ("leder", "crisis") in notified(offline_app, reference)


async def test_one_busy_conversation_gives_one_notice_per_person_not_one_per_message(
    offline_app: App, clock: FakeClock
) -> None:
    teen = Citizen(offline_app, "teen-busy")
    for text in ("jeg vil ikke leve mer", "jeg mener det", "jeg vil dø", "jeg vil ikke leve"):
        await teen.says(text)
        clock.advance(minutes=1)
    [case] = open_cases_of(offline_app, teen)
    with offline_app.store.sessions() as session:
        rows = session.scalars(
            select(StaffNotification).where(StaffNotification.case_reference == case.reference)
        ).all()
    assert sorted(n.staff_id for n in rows) == ["ahmed", "leder"]
    clock.advance(minutes=31)  # past notifications.repeat_after_minutes: told again
    await teen.says("jeg vil ikke leve mer")
    with offline_app.store.sessions() as session:
        again = session.scalars(
            select(StaffNotification).where(StaffNotification.case_reference == case.reference)
        ).all()
    assert len(again) == 4


async def test_at_night_the_words_are_honest_and_the_on_call_service_is_told(
    offline_app: App, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # Tuesday 23:30 in Oslo
    teen = Citizen(offline_app, "teen-at-night")
    handled = await teen.says("jeg vil ikke leve lenger")
    text = "\n".join(r.text for r in handled.replies)
    assert "55 10 20 99" in text and "116 111" in text and "113" in text
    assert "onsdag 25. november 08:00" in text  # when the los reads it
    assert "så fort som mulig" not in text and "person fra kommunen nå" not in text
    assert "Barnevernvakten har fått beskjed" in text
    [case] = open_cases_of(offline_app, teen)
    assert (ON_CALL, "urgent_case") in notified(offline_app, case.reference)


async def test_in_opening_hours_with_nobody_on_duty_the_on_call_service_is_told(
    offline_app: App, clock: FakeClock
) -> None:
    now = clock()
    offline_app.staff_records.switch_duty("ahmed", False, offline_app.router.staffing.day(now), now)
    teen = Citizen(offline_app, "teen-nobody")
    handled = await teen.says("jeg vil ikke leve lenger")
    assert "55 10 20 99" in "\n".join(r.text for r in handled.replies)
    [case] = open_cases_of(offline_app, teen)
    assert (ON_CALL, "urgent_case") in notified(offline_app, case.reference)


async def test_an_urgent_case_nobody_takes_is_escalated_after_five_minutes(
    offline_app: App, clock: FakeClock
) -> None:
    teen = Citizen(offline_app, "teen-waiting")
    await teen.says("jeg vil ikke leve lenger")
    [case] = open_cases_of(offline_app, teen)
    clock.advance(minutes=4)
    assert offline_app.queue.escalate_due() == []
    clock.advance(minutes=2)
    assert offline_app.queue.escalate_due() == [case.reference]
    assert ("leder", "urgent_escalation") in notified(offline_app, case.reference)


async def test_withdrawn_danger_words_never_follow_into_a_later_case(offline_app: App) -> None:
    teen = Citizen(offline_app, "teen-withdraws")
    await describe_step(teen, offline_app)
    await teen.says(DANGER)
    await teen.says("/trekk_samtykke")
    with offline_app.store.sessions() as session:
        assert DANGER not in [m.text for m in session.scalars(select(Message))]
    await teen.says("", button="person")
    await teen.says("", button="about:self")
    await teen.says("", button="age:13-17")
    await teen.says("", button="consent:los")
    await teen.says("", button="strengths:skip")
    await teen.says("Jeg vil gjerne begynne på fotball og trenger hjelp til å finne et lag.")
    await teen.says("", button="done")
    await teen.says("", button="contact:chat")
    await teen.says("", button="confirm:send")
    [case] = open_cases_of(offline_app, teen)
    assert not case.urgent and case.crisis_category is None
    view = offline_app.queue.view(case.reference, "ahmed")
    assert DANGER not in [*view.description, *(t for _, _, t in view.messages)]


async def test_deleting_my_data_deletes_the_danger_words_too(offline_app: App) -> None:
    teen = Citizen(offline_app, "teen-deletes")
    await teen.says(DANGER)
    await teen.says("/slett")
    await teen.says("", button="delete:yes")
    with offline_app.store.sessions() as session:
        assert DANGER not in [m.text for m in session.scalars(select(Message))]
        assert session.scalars(select(Case)).all() == []
