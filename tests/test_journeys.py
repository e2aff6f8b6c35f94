"""End-to-end journeys through the router and the los queue, on SQLite, with a dead NLU server
(the flows are driven by buttons and the offline matcher, as when Rasa is down)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.store.models import (
    AuditEntry,
    Case,
    Consent,
    ConsentText,
    Conversation,
    Message,
    StaffNotification,
)
from tests.fakes.clock import FakeClock
from tests.journey import Citizen, claim_concurrently

PARENT_WORDS = "Sønnen min på 8 år gråter hver morgen før skolen og vil ikke gå. Vi er slitne."


async def parent_sends_a_case(app: App, user: str = "parent-1") -> tuple[Citizen, str]:
    parent = Citizen(app, user)
    await parent.says("hei")
    await parent.says("", button="person")
    await parent.says("", button="about:child")
    await parent.says("", button="age:6-12")
    await parent.says("", button="consent:services")
    await parent.says("", button="strengths:skip")
    await parent.says(PARENT_WORDS)
    await parent.says("Han sover dårlig også.")
    await parent.says("", button="done")
    await parent.says("", button="contact:call")
    await parent.says("98 76 54 32, etter kl 15")
    assert "98 76 54 32" in parent.last() and PARENT_WORDS in parent.last()
    handled = await parent.says("", button="confirm:send")
    assert handled.handover
    reference = parent.last().split("er ")[1].split(".")[0]
    assert reference.startswith("K-")
    return parent, reference


async def test_a_parent_consents_describes_and_a_los_helps_and_closes(offline_app: App) -> None:
    app = offline_app
    parent, reference = await parent_sends_a_case(app)

    [item] = app.queue.open_cases("kari")
    assert item.reference == reference and item.consent_scope == "familielos+services"
    assert not item.anonymous and item.language == "nb" and item.channel == "jsonl"

    assert app.queue.claim(reference, "kari")
    quiet = await parent.says("Har noen lest det?")
    assert quiet.replies == () and quiet.handover  # the bot stays quiet once a los has it
    view = app.queue.view(reference, "kari")
    assert app.queue.mark_read(reference, "kari")  # the los tells the parent she has read it
    assert view.description == [PARENT_WORDS, "Han sover dårlig også."]  # verbatim
    assert view.callback == "98 76 54 32, etter kl 15"
    assert [m[2] for m in view.messages] == ["Har noen lest det?"]

    app.queue.reply(reference, "kari", "Hei! Jeg er Kari, familielos. Jeg ringer i dag kl 15.")
    assert await parent.inbox() == [
        "Los har lest meldingen din.",
        "Hei! Jeg er Kari, familielos. Jeg ringer i dag kl 15.",
    ]

    app.queue.close(reference, "kari", "familieteam etablert")
    [question] = await parent.inbox()
    assert "1. 😞" in question and "5. 😄" in question
    await parent.says("4")
    assert "Takk for tilbakemeldingen" in parent.last()

    with app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.status == "closed" and case.feedback_score == 4
        consent = session.scalars(select(Consent)).one()
        shown = session.get_one(ConsentText, consent.text_sha256)
        assert consent.version == "2026-11-v1" and consent.language == "nb"
        assert consent.case_reference == reference and "trekke samtykket" in shown.text
        actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["list_queue", "claim", "read_case", "reply", "close"]


async def test_the_bot_stays_quiet_once_a_los_has_the_case_but_not_before(offline_app: App) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    before = await parent.says("En ting til: han har begynt å gå til BUP.")
    assert "Lagt til i saken din" in before.replies[0].text
    offline_app.queue.claim(reference, "kari")
    after = await parent.says("Og skolen vet om det.")
    assert after.replies == () and after.handover


async def test_an_anonymous_teenager_gets_an_answer_and_is_never_identified(
    offline_app: App, tmp_path: Path
) -> None:
    teen = Citizen(offline_app, "telegram-user-424242")
    await teen.says("/anonym")
    assert "anonym" in teen.last()
    handled = await teen.says(
        "Hvordan kan jeg slutte å røyke hasj uten at foreldrene mine får vite det?"
    )
    assert handled.handover
    [item] = offline_app.queue.open_cases("ahmed")
    assert item.anonymous and item.consent_scope is None
    offline_app.queue.claim(item.reference, "ahmed")
    offline_app.queue.reply(
        item.reference, "ahmed", "Så bra at du spør! Du kan snakke med helsesykepleier."
    )
    assert (await teen.inbox())[-1].startswith("Så bra at du spør")
    dump = "\n".join(sqlite3.connect(tmp_path / "inngang.db").iterdump())
    assert "424242" not in dump  # the platform id is only a keyed hash


async def test_a_child_under_the_consent_age_is_sent_to_the_anonymous_question(
    offline_app: App,
) -> None:
    child = Citizen(offline_app, "child-1")
    await child.says("", button="person")
    await child.says("", button="about:self")
    await child.says("", button="age:<13")
    assert "under 13" in child.last() or "Under 13" in child.last() or "13 år" in child.last()
    await child.says("Det er noen i klassen som plager meg hver dag")
    with offline_app.store.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.anonymous and case.about is None and case.age_band is None
        assert session.scalars(select(Consent)).first() is None


async def test_withdrawing_consent_mid_intake_stores_nothing_more(offline_app: App) -> None:
    parent = Citizen(offline_app, "parent-2")
    for button in ("person", "about:child", "age:0-5", "consent:los", "strengths:skip"):
        await parent.says("", button=button)
    await parent.says("Babyen vår spiser dårlig")
    await parent.says("trekk samtykke")
    assert "trukket tilbake" in parent.last()
    await parent.says("", button="done")  # a stale button does not resurrect the intake
    with offline_app.store.sessions() as session:
        consent = session.scalars(select(Consent)).one()
        assert consent.withdrawn_at is not None
        assert session.scalars(select(Case)).first() is None


async def test_deleting_my_data_really_deletes_it(offline_app: App) -> None:
    parent, reference = await parent_sends_a_case(offline_app, "parent-3")
    await parent.says("/mine_data")
    assert reference in parent.last() and PARENT_WORDS in parent.last()
    await parent.says("slett mine data")
    await parent.says("", button="delete:yes")
    assert "slettet" in parent.last()
    with offline_app.store.sessions() as session:
        assert session.scalars(select(Conversation)).first() is None
        assert session.scalars(select(Message)).first() is None
        assert session.scalars(select(Case)).first() is None
        consent = session.scalars(select(Consent)).one()  # the law's minimum stays, unlinked
        assert consent.conversation_id is None and consent.erased_at is not None


async def test_two_staff_claiming_at_once_exactly_one_wins(offline_app: App) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    results = claim_concurrently(offline_app, reference, ("kari", "ahmed"))
    assert sorted(results) == [False, True]


async def test_out_of_hours_the_bot_takes_the_case_and_says_when_it_is_read(
    offline_app: App, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)  # Saturday 22:00 in Oslo
    _, reference = await parent_sends_a_case(offline_app)
    with offline_app.store.sessions() as session:
        texts = [m.text for m in session.scalars(select(Message).where(Message.direction == "out"))]
    confirmation = next(t for t in texts if reference in t)
    assert "mandag 30. november 08:00" in confirmation
    assert "113" in confirmation and "116 111" in confirmation


async def test_a_case_nobody_claims_is_escalated_to_staff_on_duty_and_the_leader(
    offline_app: App, clock: FakeClock
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    clock.advance(minutes=59)
    assert offline_app.queue.escalate_due() == []
    clock.advance(minutes=2)
    assert offline_app.queue.escalate_due() == [reference]
    assert offline_app.queue.escalate_due() == []  # once
    from bot.store.models import StaffNotification

    with offline_app.store.sessions() as session:
        notified = {(n.staff_id, n.kind) for n in session.scalars(select(StaffNotification))}
    assert {("ahmed", "escalation"), ("leder", "escalation")} <= notified  # Tuesday: ahmed


async def test_a_returning_family_meets_the_same_los(offline_app: App) -> None:
    parent, first = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(first, "ahmed")
    offline_app.queue.close(first, "ahmed", "done")
    await parent.inbox()
    await parent.says("5")
    _, second = await parent_sends_a_case(offline_app)
    with offline_app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == second)).one()
    assert case.preferred_staff == "ahmed" and case.previous_reference == first
    assert json.loads(case.description)[0] == PARENT_WORDS


async def test_a_first_message_in_danger_puts_an_urgent_case_in_the_queue_at_once(
    offline_app: App,
) -> None:
    teen = Citizen(offline_app, "teen-in-danger")
    crisis = await teen.says("jeg vil ikke leve mer")
    answer, note = crisis.replies
    assert crisis.crisis and crisis.handover and "113" in answer.text and not answer.buttons
    [item] = offline_app.queue.open_cases("kari")  # nothing more to press or write
    assert item.priority == "urgent" and item.anonymous and item.crisis == "self_harm"
    assert item.reference in note.text and "så fort som mulig" in note.text
    await teen.says("", button="person")  # an old "talk to a person" button
    assert item.reference in teen.last()
    handled = await teen.says("jeg er hjemme alene og har tatt masse piller")
    assert handled.handover and handled.crisis
    assert [i.reference for i in offline_app.queue.open_cases("kari")] == [item.reference]
    view = offline_app.queue.view(item.reference, "kari")
    assert [text for _, _, text in view.messages] == [
        "jeg vil ikke leve mer",
        "jeg er hjemme alene og har tatt masse piller",
    ]


async def test_a_crisis_while_the_los_has_the_case_reaches_the_citizen_and_alerts_los_and_leader(
    offline_app: App,
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    handled = await parent.says("Jeg orker ikke mer. I dag vil jeg ikke leve.")
    assert handled.crisis and "113" in handled.replies[0].text
    assert "familielosen som har den, har fått beskjed" in parent.last()
    view = offline_app.queue.view(reference, "kari")
    assert view.item.priority == "urgent"
    assert view.messages[-1][2] == "Jeg orker ikke mer. I dag vil jeg ikke leve."
    with offline_app.store.sessions() as session:
        notices = session.scalars(
            select(StaffNotification).where(StaffNotification.kind == "crisis")
        ).all()
    assert {n.staff_id for n in notices} == {"kari", "leder"}


async def test_a_crisis_while_confirming_deletion_is_answered_and_nothing_is_deleted(
    offline_app: App,
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    await parent.says("/slett")
    handled = await parent.says("pappa slår meg")
    assert handled.crisis and "112" in handled.replies[0].text
    assert parent.last() == "Greit, ingenting ble slettet."
    [item] = offline_app.queue.open_cases("kari")
    assert item.reference == reference and item.priority == "urgent"


async def test_a_parent_who_writes_something_else_first_can_still_rate_the_help_once(
    offline_app: App,
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.close(reference, "kari", "familieteam etablert")
    assert "1 (dårlig) til 5" in (await parent.inbox())[-1]
    await parent.says("hvor er helsestasjonen?")  # typed before the question arrived
    assert "55 10 20 01" in parent.last()
    await parent.says("", button="feedback:5")  # the question's button is still on screen
    assert "Takk" in parent.last()
    await parent.says("", button="feedback:1")  # only once
    with offline_app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
    assert case.feedback_score == 5


async def test_a_teenagers_anonymous_question_about_violence_is_urgent_and_says_why(
    offline_app: App,
) -> None:
    teen = Citizen(offline_app, "teen-at-home")
    await teen.says("/anonym")
    handled = await teen.says("pappa slår meg hver dag og jeg tør ikke gå hjem")
    assert handled.crisis and handled.handover
    [item] = offline_app.queue.open_cases("kari")
    assert item.priority == "urgent" and item.crisis == "violence_abuse"
    with offline_app.store.sessions() as session:
        flagged = session.scalars(select(Message).where(Message.crisis.is_(True))).one()
        kinds = {n.kind for n in session.scalars(select(StaffNotification))}
    assert flagged.crisis_category == "violence_abuse"
    assert flagged.crisis_lexicon == offline_app.understander.crisis.version
    assert "crisis" in kinds  # on-duty staff and the leader are told


async def test_the_los_reads_the_words_that_made_a_case_urgent_and_what_came_before(
    offline_app: App,
) -> None:
    teen = Citizen(offline_app, "teen-low")
    await teen.says("hei")
    await teen.says("jeg orker ikke mer, alle hadde hatt det bedre uten meg")
    await teen.says("jeg er 15 og mamma drikker hver kveld")
    [item] = offline_app.queue.open_cases("kari")
    assert item.priority == "urgent" and item.crisis == "self_harm"
    view = offline_app.queue.view(item.reference, "kari")
    assert [(sender, text) for _, sender, text in view.messages] == [
        ("citizen", "hei"),
        ("citizen", "jeg orker ikke mer, alle hadde hatt det bedre uten meg"),
        ("citizen", "jeg er 15 og mamma drikker hver kveld"),
    ]


async def test_danger_told_in_the_description_is_urgent_and_read_once(offline_app: App) -> None:
    parent = Citizen(offline_app, "parent-danger")
    await parent.says("", button="person")
    await parent.says("", button="about:child")
    await parent.says("", button="age:13-17")
    await parent.says("", button="consent:los")
    await parent.says("", button="strengths:skip")
    handled = await parent.says("Datteren min sier at stefaren hennes slår henne.")
    assert handled.crisis and "112" in handled.replies[0].text
    [item] = offline_app.queue.open_cases("kari")  # at once: consented, so not anonymous
    assert item.priority == "urgent" and item.crisis == "violence_abuse" and not item.anonymous
    assert item.consent_scope == "familielos"
    await parent.says("", button="done")  # the intake's buttons, still on the screen
    assert item.reference in parent.last()
    await parent.says("Han har gjort det før også.")
    [again] = offline_app.queue.open_cases("kari")
    assert again.reference == item.reference
    view = offline_app.queue.view(item.reference, "kari")
    assert view.description == ["Datteren min sier at stefaren hennes slår henne."]
    assert [text for _, _, text in view.messages] == ["Han har gjort det før også."]


async def test_danger_again_while_a_los_is_talking_gets_the_numbers_in_one_line(
    offline_app: App,
) -> None:
    teen = Citizen(offline_app, "teen-talking")
    first = await teen.says("jeg orker ikke mer, alle hadde hatt det bedre uten meg")
    assert "116 123" in first.replies[0].text  # the full answer, every help line
    await teen.says("jeg er 15 og mamma drikker hver kveld")
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Hei, jeg er Kari. Er du trygg nå?")
    handled = await teen.says("nei egentlig ikke, jeg vil bare forsvinne")
    [reminder] = handled.replies
    assert handled.crisis and "112" in reminder.text and "113" in reminder.text
    assert "116 123" not in reminder.text and "leser det du skriver" in reminder.text
    with offline_app.store.sessions() as session:
        notices = session.scalars(
            select(StaffNotification).where(StaffNotification.kind == "crisis")
        ).all()
    assert "kari" in {n.staff_id for n in notices}
    view = offline_app.queue.view(item.reference, "kari")
    assert view.messages[-1][2] == "nei egentlig ikke, jeg vil bare forsvinne"
    await teen.says("noen prøver å bryte seg inn hos oss")  # acute danger, less specific
    [after] = offline_app.queue.open_cases("kari")
    assert after.crisis == "self_harm"  # the most serious kind seen stays
