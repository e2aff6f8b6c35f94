"""Calls at a time that suits, as a pure flow: a parent choosing "call me" is offered the
next free slots in their language and Oslo time, "any time" and "another time"; a typed
answer that means a slot ("2", "torsdag", "the first one", "czwartek 10:30") picks it, a
day with two slots asks which one, their own words are taken as before; a slot taken
meanwhile is said kindly with the next ones; an anonymous conversation is never offered a
call; the reminder, a moved and a cancelled call are told in the conversation's language
while its case is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.router import chosen_button
from flows import callback, front_door
from flows.effects import OpenCase
from flows.result import StepResult
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import FlowContext, Inbound
from nlu.understanding import Understanding

# Tuesday 24 November 2026, 10:30 in Oslo (the test clock). Free slots, in UTC (CET = +1):
WED_0900 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
THU_1000 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
THU_1030 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
FRI_0900 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
FRI_1400 = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
SLOTS = (WED_0900, THU_1000, THU_1030, FRI_0900, FRI_1400)
PHONE = "98 76 54 32"


def at_contact(language: str = "nb", anonymous: bool = False) -> ConversationState:
    draft = IntakeDraft(
        about="child",
        age_band="6-12",
        description=("Sønnen min gruer seg til skolen hver dag og sover dårlig.",),
        topic="los",
    )
    return ConversationState(
        language=language,
        phase=Phase.INTAKE_CONTACT,
        consent_version="2026-11-v1",
        intake=draft,
        anonymous=anonymous,
        turns=6,
    )


def with_slots(ctx: FlowContext, *slots: datetime) -> FlowContext:
    return replace(ctx, callback_slots=slots)


def turn(
    state: ConversationState,
    ctx: FlowContext,
    text: str = "",
    button: str | None = None,
) -> tuple[StepResult, ConversationState]:
    """One message as the router hands it over: a typed answer naming a choice is that
    choice; the choices shown are remembered for the next one."""
    inbound = chosen_button(Inbound("jsonl", "u", text, button=button), state)
    understood = Understanding(state.language, "out_of_scope", 0.1, source="fallback")
    result = front_door.step(state, inbound, understood, ctx)
    buttons = [b for r in result.replies for b in r.buttons]
    kept = result.state.evolve(
        offered=tuple(b.payload for b in buttons), offered_labels=tuple(b.label for b in buttons)
    )
    return result, kept


def labels(result: StepResult) -> list[str]:
    return [b.label for r in result.replies for b in r.buttons]


def said(result: StepResult) -> str:
    return "\n".join(r.text for r in result.replies)


def test_call_me_offers_the_next_four_free_slots_in_oslo_time_with_any_and_another_time(
    ctx: FlowContext,
) -> None:
    result, state = turn(at_contact(), with_slots(ctx, *SLOTS), button="contact:call")
    assert state.phase is Phase.INTAKE_CALLBACK_TIME
    assert "Når passer det at familielosen ringer deg?" in said(result)
    assert labels(result) == [
        "onsdag 25. november 09:00",
        "torsdag 26. november 10:00",
        "torsdag 26. november 10:30",
        "fredag 27. november 09:00",
        "Når som helst",
        "En annen tid (skriv)",
        "Avbryt",
    ]


@pytest.mark.parametrize(
    ("language", "first", "any_time"),
    [
        ("en", "Wednesday 25 November 09:00", "Any time"),
        ("pl", "środa 25 listopada 09:00", "W dowolnym momencie"),
        ("uk", "середа 25 листопада 09:00", "Будь-коли"),
        ("nn", "onsdag 25. november 09:00", "Når som helst"),
    ],
)
def test_the_slots_are_written_the_way_the_language_writes_days_and_times(
    ctx: FlowContext, language: str, first: str, any_time: str
) -> None:
    result, _ = turn(at_contact(language), with_slots(ctx, *SLOTS), button="contact:call")
    shown = labels(result)
    assert shown[0] == first and any_time in shown


def test_arabic_names_the_day_in_arabic(ctx: FlowContext) -> None:
    result, _ = turn(at_contact("ar"), with_slots(ctx, *SLOTS), button="contact:call")
    assert labels(result)[0].startswith("الأربعاء")  # Wednesday


def test_a_chosen_slot_asks_only_for_the_number_and_the_summary_says_the_time(
    ctx: FlowContext,
) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    asked, state = turn(state, ctx, button=callback.SLOT_PREFIX + callback.stamp(THU_1030))
    assert said(asked).startswith("Hvilket telefonnummer skal losen ringe?")
    summary, state = turn(state, ctx, PHONE)
    assert state.phase is Phase.INTAKE_CONFIRM
    assert f"Ring meg torsdag 26. november 10:30 på {PHONE}" in said(summary)


@pytest.mark.parametrize(
    ("language", "typed", "meant"),
    [
        ("nb", "2", THU_1000),  # the number of the choice
        ("nb", "den tredje", THU_1030),
        ("en", "the first one", WED_0900),
        ("nb", "onsdag", WED_0900),  # the only Wednesday slot
        ("nb", "torsdag kl 10:30", THU_1030),
        ("pl", "czwartek 10:30", THU_1030),
        ("uk", "середа", WED_0900),
        ("uk", "другий", THU_1000),  # "the second": й folds as typed words do
        ("ar", "الأربعاء", WED_0900),
        ("en", "Friday at 2", None),  # "at 2" is no slot's hour: not a pick
        ("nb", "fredag 14:00", FRI_1400),  # not among the first four, still free: taken
    ],
)
def test_a_typed_answer_that_means_a_slot_picks_it(
    ctx: FlowContext, language: str, typed: str, meant: datetime | None
) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(language), ctx, button="contact:call")
    _, state = turn(state, ctx, typed)
    draft = state.intake
    assert draft is not None
    if meant is None:
        assert draft.callback_slot is None
        return
    assert draft.callback_when == "slot" and draft.callback_slot == callback.stamp(meant)
    assert state.phase is Phase.INTAKE_CALLBACK  # the number next


def test_a_day_with_two_slots_asks_which_one_of_them(ctx: FlowContext) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    result, state = turn(state, ctx, "torsdag")
    assert state.phase is Phase.INTAKE_CALLBACK_TIME
    assert labels(result)[:2] == ["torsdag 26. november 10:00", "torsdag 26. november 10:30"]
    assert "onsdag 25. november 09:00" not in labels(result)
    _, state = turn(state, ctx, "2")  # the second of the two Thursdays
    assert state.intake is not None and state.intake.callback_slot == callback.stamp(THU_1030)


def test_any_time_typed_or_pressed_asks_for_the_number_and_books_nothing(
    ctx: FlowContext,
) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    _, state = turn(state, ctx, "når som helst")
    assert state.intake is not None and state.intake.callback_when == "any"
    summary, state = turn(state, ctx, PHONE)
    assert f"Ring meg når som helst i åpningstiden på {PHONE}" in said(summary)
    sent, _ = turn(state, ctx, button="confirm:send")
    [opened] = [e for e in sent.effects if isinstance(e, OpenCase)]
    assert callback.chosen_moment(opened.draft) is None


def test_their_own_words_with_a_number_are_the_callback_as_before(ctx: FlowContext) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    _, state = turn(state, ctx, f"{PHONE}, etter kl 15")
    assert state.phase is Phase.INTAKE_CONFIRM
    assert state.intake is not None and state.intake.callback == f"{PHONE}, etter kl 15"
    assert state.intake.callback_slot is None  # "etter kl 15" is a wish, not the 15:00 slot


def test_another_time_pressed_asks_for_number_and_time_in_words(ctx: FlowContext) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    asked, state = turn(state, ctx, button=callback.OTHER)
    assert "Hvilket telefonnummer skal losen ringe, og når passer det?" in said(asked)
    _, state = turn(state, ctx, "mandag etter skolen, 41 22 33 44")
    assert state.intake is not None and state.intake.callback == "mandag etter skolen, 41 22 33 44"


def test_with_no_free_slot_call_me_asks_as_before(ctx: FlowContext) -> None:
    result, state = turn(at_contact(), ctx, button="contact:call")
    assert state.phase is Phase.INTAKE_CALLBACK
    assert said(result).startswith("Hvilket telefonnummer skal losen ringe, og når passer det?")


def test_an_anonymous_conversation_is_never_offered_a_call(ctx: FlowContext) -> None:
    assert not callback.offers_slots(at_contact(anonymous=True), with_slots(ctx, *SLOTS))


def test_the_case_carries_the_slot_and_the_confirmation_says_the_time_and_the_reminder(
    ctx: FlowContext,
) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    _, state = turn(state, ctx, "1")
    _, state = turn(state, ctx, PHONE)
    sent, state = turn(state, replace(ctx, new_case_reference="K-CALL23"), button="confirm:send")
    [opened] = [e for e in sent.effects if isinstance(e, OpenCase)]
    assert callback.chosen_moment(opened.draft) == WED_0900
    assert opened.draft.callback == PHONE
    assert "Familielosen ringer deg onsdag 25. november 09:00 (norsk tid)." in said(sent)
    assert "Du får en påminnelse 30 minutter før." in said(sent)


def test_a_slot_taken_meanwhile_is_said_kindly_with_the_next_ones_and_the_number_kept(
    ctx: FlowContext,
) -> None:
    ctx = with_slots(ctx, *SLOTS)
    _, state = turn(at_contact(), ctx, button="contact:call")
    _, state = turn(state, ctx, "1")
    _, state = turn(state, ctx, PHONE)
    later = with_slots(ctx, THU_1000, THU_1030, FRI_0900)  # another family got Wednesday
    sent, state = turn(state, later, button="confirm:send")
    assert not any(isinstance(e, OpenCase) for e in sent.effects)
    assert "Beklager, den tiden ble nettopp tatt." in said(sent)
    assert labels(sent)[0] == "torsdag 26. november 10:00"
    summary, state = turn(state, later, "1")  # the number is known: straight to the summary
    assert f"Ring meg torsdag 26. november 10:00 på {PHONE}" in said(summary)


def reminder(kind: str, reference: str = "K-CALL23", moment: datetime = THU_1030) -> Inbound:
    return Inbound("jsonl", "", callback.stamp(moment), button=callback.event_for(kind, reference))


@pytest.mark.parametrize(
    ("language", "kind", "words"),
    [
        ("nb", callback.REMINDER, "Påminnelse: Familielosen ringer deg torsdag 26. november 10:30"),
        ("pl", callback.MOVED, "Nowy termin: czwartek 26 listopada 10:30"),
        ("en", callback.CANCELLED, "cannot call on Thursday 26 November 10:30 after all"),
    ],
)
def test_the_reminder_a_moved_and_a_cancelled_call_are_told_in_the_conversations_language(
    ctx: FlowContext, language: str, kind: str, words: str
) -> None:
    on_case = ConversationState(language=language, phase=Phase.CASE_OPEN, case_ref="K-CALL23")
    result = front_door.step(
        on_case, reminder(kind), Understanding(language, "", 0.0), replace(ctx, case_open=True)
    )
    assert words in said(result)


def test_no_reminder_once_the_case_is_closed_or_the_conversation_is_on_another_case(
    ctx: FlowContext,
) -> None:
    state = ConversationState(language="nb", phase=Phase.FEEDBACK, case_ref="K-CALL23")
    closed = front_door.step(state, reminder(callback.REMINDER), Understanding("nb", "", 0.0), ctx)
    assert closed.replies == ()
    other = state.evolve(phase=Phase.CASE_OPEN, case_ref="K-OTHER2")
    moved_on = front_door.step(
        other,
        reminder(callback.REMINDER),
        Understanding("nb", "", 0.0),
        replace(ctx, case_open=True),
    )
    assert moved_on.replies == ()


def test_on_whatsapp_two_times_on_one_day_are_two_rows_told_apart_by_their_time(
    ctx: FlowContext,
) -> None:
    from bot.channels.whatsapp import MAX_ROW_TITLE, message_payloads

    result, _ = turn(at_contact(), with_slots(ctx, *SLOTS), button="contact:call")
    [offer] = [r for r in result.replies if r.buttons]
    interactive = message_payloads(offer, "Velg")[-1]["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    titles = [row["title"] for row in rows]
    assert titles[1:3] == ["torsdag 26. novem… 10:00", "torsdag 26. novem… 10:30"]
    assert all(len(t) <= MAX_ROW_TITLE for t in titles) and len(set(titles)) == len(titles)
    assert rows[2]["description"] == "torsdag 26. november 10:30"  # the whole label
