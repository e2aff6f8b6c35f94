"""Each intake step as a pure function: state in, replies and effects out (no database)."""

from __future__ import annotations

from dataclasses import replace

from flows import front_door, intake
from flows.effects import OpenCase, RecordConsent, WithdrawConsent
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import FlowContext, Inbound
from nlu.understanding import Understanding

PLAIN = Understanding("nb", "out_of_scope", 0.9)


def step(state: ConversationState, ctx: FlowContext, text: str = "", button: str | None = None):
    return front_door.step(state, Inbound("test", "u", text, button=button), PLAIN, ctx)


def test_consent_records_the_exact_text_shown_its_version_language_and_scope(
    ctx: FlowContext,
) -> None:
    asking = ConversationState("nb", Phase.INTAKE_AGE, intake=IntakeDraft(about="child"))
    shown = step(asking, ctx, button="age:6-12")
    assert shown.state.phase is Phase.INTAKE_CONSENT
    consented = step(shown.state, ctx, button="consent:los")
    [effect] = consented.effects
    assert isinstance(effect, RecordConsent)
    assert effect.text == shown.replies[0].text  # the very text the citizen saw
    assert (effect.version, effect.language, effect.scope) == ("2026-11-v1", "nb", ("familielos",))
    assert consented.state.phase is Phase.INTAKE_STRENGTHS  # what goes well, before problems


def test_free_text_is_never_taken_as_consent(ctx: FlowContext) -> None:
    asking = ConversationState("nb", Phase.INTAKE_CONSENT, intake=IntakeDraft(about="self"))
    result = step(asking, ctx, text="ja ja, kjør på")
    assert result.effects == () and result.state.phase is Phase.INTAKE_CONSENT


def test_the_description_is_kept_verbatim_across_messages(ctx: FlowContext) -> None:
    state = ConversationState(
        "nb", Phase.INTAKE_DESCRIBE, consent_version="v", intake=IntakeDraft()
    )
    for words in ("Han gråter  hver morgen!!", "Og sover ikke 😢"):
        state = step(state, ctx, text=words).state
    assert state.intake is not None
    assert state.intake.description == ("Han gråter  hver morgen!!", "Og sover ikke 😢")


def test_a_child_under_the_consent_age_goes_straight_to_an_anonymous_question(
    ctx: FlowContext,
) -> None:
    state = ConversationState("nb", Phase.INTAKE_AGE, intake=IntakeDraft(about="self"))
    result = step(state, ctx, button="age:<13")
    assert result.state.phase is Phase.ANON_QUESTION and result.state.anonymous
    assert result.state.intake is None and result.effects == ()


def test_sending_opens_a_case_with_the_reference_and_says_what_happens_next(
    ctx: FlowContext,
) -> None:
    ctx = replace(ctx, new_case_reference="K-TEST01")
    draft = IntakeDraft(
        about="child",
        age_band="0-5",
        description=("Babyen spiser lite",),
        contact="chat",
        topic="helsestasjon",
    )
    state = ConversationState("nb", Phase.INTAKE_CONFIRM, consent_version="v", intake=draft)
    result = step(state, ctx, button="confirm:send")
    [effect] = result.effects
    assert isinstance(effect, OpenCase) and effect.reference == "K-TEST01"
    assert effect.draft.description == ("Babyen spiser lite",)
    assert "K-TEST01" in result.replies[0].text and result.handover
    assert result.state.phase is Phase.CASE_OPEN and result.state.case_ref == "K-TEST01"


def test_cancelling_at_the_summary_withdraws_the_consent(ctx: FlowContext) -> None:
    state = ConversationState(
        "nb", Phase.INTAKE_CONFIRM, consent_version="v", intake=IntakeDraft(description=("x",))
    )
    result = step(state, ctx, button="confirm:cancel")
    assert any(isinstance(e, WithdrawConsent) for e in result.effects)
    assert result.state.phase is Phase.IDLE and result.state.consent_version is None


def test_out_of_hours_the_confirmation_names_the_next_opening_and_the_crisis_lines(
    ctx: FlowContext,
) -> None:
    from datetime import UTC, datetime

    ctx = replace(
        ctx,
        office_open=False,
        new_case_reference="K-NIGHT1",
        next_opening=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
    )
    state = ConversationState("en", Phase.ANON_QUESTION, anonymous=True)
    english = Understanding("en", "out_of_scope", 0.9)
    question = Inbound("test", "u", "is it normal to feel this tired all the time?")
    result = front_door.step(state, question, english, ctx)
    text = result.replies[0].text
    assert "Monday 30 November 08:00" in text and "116 111" in text and "112" in text


def test_what_the_parent_already_wrote_starts_the_description_so_nobody_asks_twice(
    ctx: FlowContext,
) -> None:
    words = "Sønnen min på 10 nekter å gå på skolen, og vi krangler hver eneste kveld."
    told = front_door.idle(
        ConversationState(language="nb"),
        Inbound("test", "u1", words),
        Understanding("nb", "svc_familieteam", 0.9, source="rasa"),
        ctx,
    )
    assert told.topic == "familieteam"
    started = intake.start(told.state, ctx)
    assert started.state.intake is not None
    assert started.state.intake.description == (words,)
    assert intake.LAST_WORDS not in started.state.extra
    short = front_door.idle(
        ConversationState(language="nb"),
        Inbound("test", "u1", "PPT?"),
        Understanding("nb", "svc_ppt", 0.9, source="rasa"),
        ctx,
    )
    assert intake.start(short.state, ctx).state.intake.description == ()  # type: ignore[union-attr]
