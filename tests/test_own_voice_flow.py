"""The questions before a meeting, as a pure flow: the los's event starts them where the
conversation is with the case; a message is an answer (not relayed chat), "skip" and "stop"
work pressed or typed as commands, a crisis ends the round behind the crisis answer, and the
run survives a restart because it is part of the conversation state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from flows import front_door
from flows.effects import (
    AppendToCase,
    MarkUrgent,
    OwnVoiceAnswer,
    OwnVoiceOutcome,
    OwnVoiceProgress,
)
from flows.own_voice import SKIP, STOP, Questions, event_for
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.types import FlowContext, Inbound
from nlu.crisis import CrisisSignal
from nlu.understanding import Understanding

SENT = Questions(
    7,
    "K-ABC234",
    "Hei! Før møtet vil vi høre hva du mener.",
    ("Hva er viktigst for deg?", "Hvem vil du ha med?"),
    "Takk!",
    datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
)
ON_CASE = ConversationState(language="nb", phase=Phase.CASE_OPEN, case_ref="K-ABC234", turns=4)
QUIET = Understanding("nb", "out_of_scope", 0.2, source="fallback")


def held(ctx: FlowContext) -> FlowContext:
    return replace(ctx, case_open=True, case_claimed=True)


def event(
    ctx: FlowContext, state: ConversationState = ON_CASE, sent: Questions = SENT
) -> StepResult:
    inbound = Inbound("web", "", sent.to_json(), button=event_for(sent.request))
    return front_door.step(state, inbound, Understanding("nb", None, 0.0), held(ctx))


def says(
    ctx: FlowContext,
    state: ConversationState,
    text: str = "",
    button: str | None = None,
    understanding: Understanding = QUIET,
) -> StepResult:
    return front_door.step(
        state, Inbound("web", "u", text, button=button), understanding, held(ctx)
    )


def test_the_los_s_questions_start_with_the_intro_the_meeting_in_oslo_time_and_the_first(
    ctx: FlowContext,
) -> None:
    started = event(ctx)
    intro, first = started.replies
    assert intro.text.startswith("Hei! Før møtet vil vi høre hva du mener.")
    assert intro.text.endswith("Møtet er tirsdag 1. desember 14:00.")  # 13:00 UTC is 14:00 here
    assert first.text == "Spørsmål 1 av 2: Hva er viktigst for deg?"
    assert [b.payload for b in first.buttons] == [SKIP, STOP]
    assert started.state.phase is Phase.OWN_VOICE
    assert started.effects == (OwnVoiceProgress(7, OwnVoiceOutcome.ASKING),)


def test_an_answer_is_the_child_s_own_words_for_the_case_not_relayed_chat(ctx: FlowContext) -> None:
    asking = event(ctx).state
    answered = says(ctx, asking, "At jeg får bestemme litt selv.")
    assert answered.effects == (OwnVoiceAnswer(7, "K-ABC234", 0),)
    assert not any(isinstance(e, AppendToCase) for e in answered.effects)
    assert [r.text for r in answered.replies] == ["Spørsmål 2 av 2: Hvem vil du ha med?"]
    done = says(ctx, answered.state, "Mormor.")
    assert [r.text for r in done.replies] == ["Takk!"]
    assert done.effects == (
        OwnVoiceAnswer(7, "K-ABC234", 1),
        OwnVoiceProgress(7, OwnVoiceOutcome.DONE),
    )
    assert done.state.phase is Phase.CASE_OPEN and done.state.own_voice is None
    relayed = says(ctx, done.state, "Når er møtet?")  # afterwards: the los's chat again
    assert relayed.effects == (AppendToCase("K-ABC234", "Når er møtet?"),)


def test_skip_pressed_and_stop_typed_as_the_command(ctx: FlowContext) -> None:
    asking = event(ctx).state
    skipped = says(ctx, asking, button=SKIP)
    assert skipped.effects == (OwnVoiceAnswer(7, "K-ABC234", 0, skipped=True),)
    stopped = says(ctx, skipped.state, "stopp")
    assert "vi stopper her" in stopped.replies[0].text
    assert stopped.effects == (OwnVoiceProgress(7, OwnVoiceOutcome.STOPPED),)
    assert stopped.state.phase is Phase.CASE_OPEN and stopped.state.case_ref == "K-ABC234"
    assert says(ctx, stopped.state, button=SKIP).replies == ()  # an old "skip": nothing


def test_a_crisis_in_an_answer_is_answered_first_and_ends_the_questions(ctx: FlowContext) -> None:
    asking = event(ctx).state
    signal = CrisisSignal("self_harm", "psykisk_helse", "nb", "lexicon-1")
    flagged = replace(QUIET, crisis=signal)
    result = says(ctx, asking, "jeg vil ikke leve lenger", understanding=flagged)
    assert result.crisis and "113" in result.replies[0].text
    assert not any("Spørsmål 2" in r.text for r in result.replies)
    assert OwnVoiceAnswer(7, "K-ABC234", 0) in result.effects
    assert OwnVoiceProgress(7, OwnVoiceOutcome.STOPPED) in result.effects
    assert any(isinstance(e, MarkUrgent) for e in result.effects)
    assert result.state.phase is Phase.CASE_OPEN


def test_questions_for_a_case_the_conversation_has_left_are_not_started(ctx: FlowContext) -> None:
    elsewhere = ConversationState(language="nb", phase=Phase.IDLE)
    result = event(ctx, elsewhere)
    assert result.replies == ()
    assert result.effects == (OwnVoiceProgress(7, OwnVoiceOutcome.NOT_STARTED),)


def test_the_run_survives_a_restart_in_the_stored_state(ctx: FlowContext) -> None:
    asking = says(ctx, event(ctx).state, "Fotball.").state
    restored = ConversationState.from_json(asking.to_json(), "nb")
    assert restored == asking
    assert says(ctx, restored, "Mormor.").replies[0].text == "Takk!"


def test_a_new_round_replaces_one_still_running(ctx: FlowContext) -> None:
    asking = says(ctx, event(ctx).state, "Fotball.").state
    again = event(ctx, asking, replace(SENT, request=8))
    assert again.effects == (
        OwnVoiceProgress(7, OwnVoiceOutcome.STOPPED),
        OwnVoiceProgress(8, OwnVoiceOutcome.ASKING),
    )
    assert again.state.own_voice is not None and again.state.own_voice.request == 8
    assert again.replies[-1].text == "Spørsmål 1 av 2: Hva er viktigst for deg?"


def test_someone_in_danger_pressed_mid_questions_ends_them_behind_the_crisis_answer(
    ctx: FlowContext,
) -> None:
    asking = event(ctx).state
    pressed = says(ctx, asking, button=front_door.DANGER_NOW)
    assert pressed.crisis and "113" in pressed.replies[0].text
    assert OwnVoiceProgress(7, OwnVoiceOutcome.STOPPED) in pressed.effects
    assert pressed.state.phase is Phase.CASE_OPEN and pressed.state.own_voice is None
