"""An open case: the citizen's messages go to the los verbatim; feedback when it closes."""

from __future__ import annotations

from flows.effects import AppendToCase, StoreFeedback
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from flows.when import when_read

FEEDBACK_FACES = ("😞", "🙁", "😐", "🙂", "😄")


def relay(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """Pass the message to the case. Quiet once a los has it; a short receipt before that."""
    reference = state.case_ref
    if reference is None or not inbound.text.strip():
        return StepResult(state.evolve(phase=Phase.IDLE), ())
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


def feedback(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult | None:
    """Store a rating; None when the message is not a rating (the front door handles it)."""
    button = inbound.button or ""
    text = inbound.text.strip()
    score: int | None = None
    if button.startswith("feedback:") and button[9:].isdigit():
        score = int(button[9:])
    elif text in FEEDBACK_FACES:
        score = FEEDBACK_FACES.index(text) + 1
    if score is None or not 1 <= score <= 5 or state.case_ref is None:
        return None
    done = state.evolve(phase=Phase.IDLE, case_ref=None, urgent=False)
    reply = Outbound(ctx.t(N_("feedback.thanks"), state.language), state.language)
    return StepResult(done, (reply,), (StoreFeedback(state.case_ref, score),))
