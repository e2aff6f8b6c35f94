"""Documents from the family: a photo or a PDF that comes with a message.

It is kept only in the citizen's own open case with consent (never before a case, never in
an anonymous conversation); a file too big or of another type is refused with the limits.
The flow decides from the checked fact alone; the bytes stay with the application.
"""

from __future__ import annotations

from flows.effects import AppendToCase, Effect, StoreAttachment
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.types import N_, AttachmentVerdict, FlowContext, Inbound, Outbound


def received(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """Answer a message that carried a file (any caption goes to the case as words)."""
    attachment = inbound.attachment
    assert attachment is not None
    lang = state.language
    limits = ctx.settings.attachments
    megabytes = max(1, limits.max_bytes // 1_000_000)
    if attachment.verdict is AttachmentVerdict.TOO_BIG:
        text = ctx.t(N_("documents.too_big"), lang, megabytes=megabytes)
        return StepResult(state, (Outbound(text, lang),))
    if attachment.verdict is AttachmentVerdict.BAD_TYPE:
        text = ctx.t(N_("documents.bad_type"), lang, megabytes=megabytes)
        return StepResult(state, (Outbound(text, lang),))
    if state.anonymous:
        return StepResult(state, (Outbound(ctx.t(N_("documents.anonymous"), lang), lang),))
    reference = state.case_ref
    if (
        reference is None
        or state.phase is not Phase.CASE_OPEN
        or state.consent_version is None
        or not ctx.case_open
    ):
        return StepResult(state, (Outbound(ctx.t(N_("documents.before_case"), lang), lang),))
    effects: tuple[Effect, ...] = (StoreAttachment(reference),)
    caption = inbound.text.strip()
    if caption:
        effects = (*effects, AppendToCase(reference, caption))
    text = ctx.t(N_("documents.received"), lang, reference=reference)
    return StepResult(
        state, (Outbound(text, lang),), effects, topic=state.last_topic, handover=True
    )
