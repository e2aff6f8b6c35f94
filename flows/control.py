"""Conversation control: a question asked in the middle of an intake is answered (the intake
waits, then resumes), and a worry about confidentiality is answered wherever it comes.

Only a clear question is taken out of the citizen's description: one in question form (a "?"
at the end, or a question word first) that the understanding confidently reads as being about
a service. "Helsesykepleieren sa at ..." stays the citizen's words.
"""

from __future__ import annotations

from dataclasses import replace

from flows import answers, intake
from flows.choices import fold
from flows.effects import OpenCase
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from nlu.understanding import Understanding

QUESTION_MARKS = ("?", "؟", "？")
QUESTION_WORDS = frozenset(
    {
        # nb / nn
        "hva", "hvor", "hvordan", "hvem", "hvilken", "hvilke", "hvorfor", "nar",
        "kva", "kvar", "korleis", "kven", "kvifor", "kor",
        # en
        "what", "where", "how", "who", "which", "why", "when",
        # pl
        "co", "gdzie", "jak", "kto", "kiedy", "czy", "dlaczego", "ile",
        # uk (folded: й -> и)
        "що", "де", "як", "хто", "коли", "чи", "чому", "скільки",
        # ar
        "هل", "ماذا", "اين", "أين", "كيف", "متى", "لماذا",
        # so
        "maxay", "xaggee", "halkee", "sidee", "yaa", "goorma", "meeqa",
    }
)  # fmt: skip
"""Words that open a question, folded (``flows.choices.fold``); auxiliaries ("er", "kan",
"is") are left out: "Er redd for ..." and "Kan ikke sove" are a description."""
MAX_QUESTION_CHARS = 160
"""A longer message is an account that may end in a question: it is the citizen's words."""
QUESTION_PHASES = frozenset({Phase.INTAKE_DESCRIBE})
"""The steps where free text is stored as the citizen's words (elsewhere it is no answer and
the step asks again anyway)."""


def is_question(text: str) -> bool:
    """Question form: a question mark at the end, or a question word first."""
    words = text.strip()
    if not words or len(words) > MAX_QUESTION_CHARS:
        return False
    if words.endswith(QUESTION_MARKS):
        return True
    first = fold(words).split(" ", 1)[0]
    return first in QUESTION_WORDS


def confident_service(understanding: Understanding, ctx: FlowContext) -> str | None:
    """The service the message is about, when the understanding is sure of it."""
    topic = understanding.topic
    if topic is None or topic not in ctx.settings.service_ids or understanding.alternatives:
        return None
    if understanding.crisis is not None or understanding.source == "none":
        return None
    if understanding.from_model and (
        understanding.confidence < ctx.settings.nlu.confidence_threshold
    ):
        return None
    return topic


def worry_answer(ctx: FlowContext, language: str, *, in_intake: bool) -> Outbound:
    """Taushetsplikt in a young person's words, and the anonymous way in; buttons for the
    anonymous question and a person (inside an intake: the anonymous question)."""
    command = "/" + ctx.t(N_("command.slash.anonymous"), language).split("|")[0].strip()
    key = N_("control.confidentiality.sms") if ctx.short_texts else N_("control.confidentiality")
    text = ctx.t(key, language, command=command)
    anonymous = Button(ctx.t(N_("control.button.anonymous"), language), "anon")
    buttons = (anonymous,) if in_intake else (anonymous, answers.person_button(ctx, language))
    return Outbound(text, language, buttons)


def _resume_line(ctx: FlowContext, again: StepResult) -> StepResult:
    """The step's question again, after "we continue where we were"."""
    lang = again.state.language
    first, *rest = again.replies
    resumed = replace(first, text=f"{ctx.t(N_('control.resume'), lang)}\n{first.text}")
    return replace(again, replies=(resumed, *rest))


def question_mid_intake(
    state: ConversationState, inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> StepResult | None:
    """A clear question asked where the intake takes the citizen's words: the answer, then the
    step again; nothing is stored. None when the message is the citizen's words."""
    if state.phase not in QUESTION_PHASES or inbound.button is not None:
        return None
    if not is_question(inbound.text):
        return None
    lang = state.language
    service = confident_service(understanding, ctx)
    worried = understanding.worry is not None
    if service is None and not worried:
        return None
    replies: list[Outbound] = []
    if worried:
        replies.append(worry_answer(ctx, lang, in_intake=True))
        state = _mark(state, understanding)
    if service is not None:
        replies.append(answers.service_answer(ctx, service, lang, state.register))
    again = _resume_line(ctx, intake.ask_description(state, ctx))
    return StepResult(again.state, (*replies, *again.replies), topic=service)


def _mark(state: ConversationState, understanding: Understanding) -> ConversationState:
    worry = understanding.worry
    if worry is None:
        return state
    if state.intake is not None:
        return state.evolve(intake=intake.with_worry(state.intake, worry))
    return intake.note_worry(state, worry)


def with_worry(
    state: ConversationState, understanding: Understanding, ctx: FlowContext, result: StepResult
) -> StepResult:
    """Inside an intake: the worry answer first, then the step as usual; the worry goes with
    the case (the draft, or a case this message opened)."""
    worry = understanding.worry
    if worry is None or understanding.crisis is not None:
        return result
    lang = state.language
    marked = _mark(result.state, understanding)
    effects = tuple(
        replace(e, draft=intake.with_worry(e.draft, worry)) if isinstance(e, OpenCase) else e
        for e in result.effects
    )
    in_intake = result.state.phase is not Phase.CASE_OPEN
    answer = worry_answer(ctx, lang, in_intake=True)
    if not in_intake:  # the anonymous question was just sent: no choice to offer
        answer = replace(answer, buttons=())
    return replace(result, state=marked, replies=(answer, *result.replies), effects=effects)


def worry_at_front_door(
    state: ConversationState, understanding: Understanding, ctx: FlowContext
) -> StepResult:
    """No intake running: the worry answer, then the service answer the message also asks for
    (its intent is read without the worry's own words)."""
    lang = state.language
    replies = [worry_answer(ctx, lang, in_intake=False)]
    marked = _mark(state, understanding)
    service = confident_service(understanding, ctx)
    if service is not None:
        replies.append(answers.service_answer(ctx, service, lang, state.register))
        marked = marked.evolve(last_topic=service)
    return StepResult(marked, tuple(replies), topic=service)
