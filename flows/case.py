"""An open case: the citizen's messages go to the los verbatim; feedback when it closes."""

from __future__ import annotations

import unicodedata

from flows import own_voice
from flows.effects import AppendToCase, StoreFeedback
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from flows.when import when_read

FEEDBACK_FACES = ("😞", "🙁", "😐", "🙂", "😄")
EVENT_PREFIX = "event:"
CASE_CLOSED = "event:case_closed:"
"""An event (not a citizen message): the los closed the case with this reference."""


def case_closed_event(reference: str) -> str:
    """The event recorded when a los closes a case."""
    return f"{CASE_CLOSED}{reference}"


def on_event(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """Something happened to the conversation: a closed case asks the citizen for feedback
    (if the conversation is still on that case; otherwise nothing is said)."""
    button = inbound.button or ""
    if not button.startswith(CASE_CLOSED):
        return StepResult(state, ())
    reference = button[len(CASE_CLOSED) :]
    if state.case_ref != reference:
        return StepResult(state, ())
    state, ended = own_voice.closed(state)  # questions still running end with the case
    question = feedback_question(ctx, state.language, reference)
    asked = state.evolve(phase=Phase.FEEDBACK, case_ref=reference)
    return StepResult(asked, (question,), ended)


def relay(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """Pass the message to the case. Quiet once a los has it; a short receipt before that."""
    reference = state.case_ref
    if reference is None:
        return StepResult(state.evolve(phase=Phase.IDLE), ())
    if not inbound.text.strip():  # a button left from before (an intake a crisis cut short)
        text = ctx.t(N_("intake.already_open"), state.language, reference=reference)
        return StepResult(state, (Outbound(text, state.language),), handover=True)
    effect = AppendToCase(reference, inbound.text.strip())
    if ctx.case_claimed:
        return StepResult(state, (), (effect,), topic=state.last_topic, handover=True)
    text = ctx.t(
        N_("case.added"), state.language, reference=reference, when=when_read(ctx, state.language)
    )
    return StepResult(
        state, (Outbound(text, state.language),), (effect,), topic=state.last_topic, handover=True
    )


def feedback_question(ctx: FlowContext, language: str, reference: str) -> Outbound:
    """Asked when the los closes the case: a 1-5 emoji scale."""
    buttons = tuple(Button(face, f"feedback:{n}") for n, face in enumerate(FEEDBACK_FACES, 1))
    return Outbound(
        ctx.t(N_("feedback.question"), language, reference=reference), language, buttons
    )


FEEDBACK_PENDING = "feedback_for"
"""State.extra key: the case whose rating is still welcome after the citizen wrote something
else (the question's buttons stay on the screen, and a tap should still count)."""


def _score(inbound: Inbound, typed_counts: bool) -> int | None:
    button = inbound.button or ""
    if button.startswith("feedback:") and button[9:].isdigit():
        score = int(button[9:])
        return score if 1 <= score <= 5 else None
    if inbound.button is not None or not typed_counts:
        return None
    return typed_score(inbound.text)


def typed_score(text: str) -> int | None:
    """A rating typed rather than pressed: one of the faces, or a digit 1-5 of any script
    ("4", "٤"); anything more is a message."""
    typed = text.strip().replace("\ufe0f", "")
    if typed in FEEDBACK_FACES:
        return FEEDBACK_FACES.index(typed) + 1
    if len(typed) == 1 and unicodedata.category(typed) == "Nd":
        score = unicodedata.decimal(typed)
        return score if 1 <= score <= 5 else None
    return None


def feedback(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult | None:
    """Store a rating, right after the question or later (once); None when the message is
    not a rating or none is asked for (the front door handles it). Later, only the question's
    buttons count while a new case is open: a "🙂" typed to a los in it is a message, not a
    rating. With no case open, a typed "4" or "😄" still counts (once)."""
    asked = state.phase is Phase.FEEDBACK
    reference = state.case_ref if asked else state.extra.get(FEEDBACK_PENDING)
    typed_counts = asked or (state.case_ref is None and state.phase is Phase.IDLE)
    score = _score(inbound, typed_counts)
    if score is None or reference is None:
        return None
    done = state.forgetting(FEEDBACK_PENDING)
    if asked:
        done = done.evolve(phase=Phase.IDLE, case_ref=None, urgent=False)
    reply = Outbound(ctx.t(N_("feedback.thanks"), state.language), state.language)
    return StepResult(done, (reply,), (StoreFeedback(reference, score),))


def postpone_feedback(state: ConversationState) -> ConversationState:
    """The citizen wrote something else after the question: go on, but keep the rating open."""
    if state.case_ref is None:
        return state.evolve(phase=Phase.IDLE)
    return state.noting(FEEDBACK_PENDING, state.case_ref).evolve(phase=Phase.IDLE, case_ref=None)
