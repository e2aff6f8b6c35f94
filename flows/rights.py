"""Data rights and control: see my data, delete my data, withdraw consent, stop."""

from __future__ import annotations

from flows.effects import DeleteData, ExportData, WithdrawConsent
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound


def my_data(state: ConversationState, ctx: FlowContext) -> StepResult:
    """The application answers ExportData with a readable copy of what is stored."""
    return StepResult(state, (), (ExportData(ctx.settings.municipality.timezone),))


def ask_delete(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Deleting needs a confirmation."""
    lang = state.language
    buttons = (
        Button(ctx.t(N_("delete.button.yes"), lang), "delete:yes"),
        Button(ctx.t(N_("delete.button.no"), lang), "delete:no"),
    )
    resume = state.phase if state.phase is not Phase.CONFIRM_DELETE else state.resume_phase
    asked = state.evolve(phase=Phase.CONFIRM_DELETE, resume_phase=resume)
    return StepResult(asked, (Outbound(ctx.t(N_("delete.confirm"), lang), lang, buttons),))


def confirm_delete(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """Yes deletes everything and starts afresh; anything else keeps the data."""
    lang = state.language
    if inbound.button == "delete:yes":
        fresh = ConversationState(language=lang)
        return StepResult(fresh, (Outbound(ctx.t(N_("delete.done"), lang), lang),), (DeleteData(),))
    resumed = state.evolve(phase=state.resume_phase or Phase.IDLE, resume_phase=None)
    return StepResult(resumed, (Outbound(ctx.t(N_("delete.kept"), lang), lang),))


def withdraw(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Withdraw consent: the case is closed and the personal data in it deleted."""
    lang = state.language
    if state.consent_version is None and state.case_ref is None:
        return StepResult(state, (Outbound(ctx.t(N_("withdraw.none"), lang), lang),))
    fresh = ConversationState(language=lang)
    return StepResult(
        fresh, (Outbound(ctx.t(N_("withdraw.done"), lang), lang),), (WithdrawConsent(),)
    )


def stop(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Stop what is running; an open case stays open (and can be withdrawn)."""
    lang = state.language
    if state.case_ref is not None:
        text = ctx.t(N_("stop.case_open"), lang, reference=state.case_ref)
        return StepResult(state.evolve(phase=Phase.CASE_OPEN, intake=None), (Outbound(text, lang),))
    stopped = state.evolve(phase=Phase.IDLE, intake=None, anonymous=False)
    return StepResult(stopped, (Outbound(ctx.t(N_("stop.done"), lang), lang),))
