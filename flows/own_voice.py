"""The child's own voice before a meeting (*min mening i ditt møte*): the los sends a short
set of questions; the citizen gets them one at a time in their own channel, answers, skips
("Hopp over") or stops, and each answer goes to the case as the child's own words.

While the questions run (``Phase.OWN_VOICE``) a message is an answer, not relayed chat; the
crisis check still runs on every answer (the front door's), and a crisis ends the round so
the los reads the words at once. Afterwards the conversation is the case's again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from flows.effects import OwnVoiceAnswer, OwnVoiceOutcome, OwnVoiceProgress
from flows.result import StepResult
from flows.state import ConversationState, OwnVoiceRun, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from flows.when import format_moment

EVENT = "event:own_voice:"
"""An event (not a citizen message): the los sent questions before a meeting."""
SKIP = "ownvoice:skip"
STOP = "ownvoice:stop"
START_FROM = frozenset({Phase.CASE_OPEN, Phase.OWN_VOICE})
"""Where the questions can start: the conversation is with the case (a round still running
is replaced by the new one)."""


@dataclass(frozen=True)
class Questions:
    """What the los sent, as the event carries it (the set's texts in the citizen's
    language, copied when sent, so a later edit of the set changes nothing here)."""

    request: int
    reference: str
    intro: str
    questions: tuple[str, ...]
    thanks: str
    meeting: datetime | None = None

    def to_json(self) -> str:
        """The event's text."""
        return json.dumps(
            {
                "request": self.request,
                "reference": self.reference,
                "intro": self.intro,
                "questions": list(self.questions),
                "thanks": self.thanks,
                "meeting": self.meeting.isoformat() if self.meeting else None,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Questions | None:
        """The event's questions, or None when the text is not a set of questions."""
        try:
            data = json.loads(raw)
            meeting = data.get("meeting")
            questions = tuple(str(q) for q in data["questions"] if str(q).strip())
            if not questions:
                return None
            return cls(
                int(data["request"]),
                str(data["reference"]),
                str(data.get("intro") or ""),
                questions,
                str(data.get("thanks") or ""),
                datetime.fromisoformat(meeting) if meeting else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def event_for(request: int) -> str:
    """The event recorded when a los sends questions (its text is ``Questions.to_json``)."""
    return f"{EVENT}{request}"


def is_event(button: str | None) -> bool:
    """Whether an event is a set of questions sent by the los."""
    return button is not None and button.startswith(EVENT)


def is_stale_press(inbound: Inbound) -> bool:
    """A press of "skip" or "stop" under a question that is no longer asked: nothing to do."""
    return inbound.button in (SKIP, STOP) and not inbound.text.strip()


def question(ctx: FlowContext, language: str, run: OwnVoiceRun) -> Outbound:
    """One question, numbered, with "skip" and "stop"."""
    text = ctx.t(
        N_("ownvoice.question"),
        language,
        n=run.position + 1,
        total=len(run.questions),
        question=run.questions[run.position],
    )
    buttons = (
        Button(ctx.t(N_("ownvoice.button.skip"), language), SKIP),
        Button(ctx.t(N_("ownvoice.button.stop"), language), STOP),
    )
    return Outbound(text, language, buttons)


def on_event(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """The los sent questions: the intro (with the meeting's time, if she gave it) and the
    first question. When the conversation is no longer with that case nothing is said and
    the round is marked as not started, for the los to see."""
    sent = Questions.from_json(inbound.text)
    if sent is None:
        return StepResult(state, ())
    if state.case_ref != sent.reference or state.phase not in START_FROM or not ctx.case_open:
        return StepResult(state, (), (OwnVoiceProgress(sent.request, OwnVoiceOutcome.NOT_STARTED),))
    lang = state.language
    effects: list[OwnVoiceAnswer | OwnVoiceProgress] = []
    if state.own_voice is not None:  # a round still running gives way to the new one
        effects.append(OwnVoiceProgress(state.own_voice.request, OwnVoiceOutcome.STOPPED))
    run = OwnVoiceRun(sent.request, sent.reference, sent.questions, sent.thanks)
    intro = sent.intro.strip()
    if sent.meeting is not None:
        when = format_moment(sent.meeting, lang, ctx.settings.municipality.timezone)
        intro = "\n\n".join(p for p in (intro, ctx.t(N_("ownvoice.meeting"), lang, when=when)) if p)
    replies = (*((Outbound(intro, lang),) if intro else ()), question(ctx, lang, run))
    effects.append(OwnVoiceProgress(sent.request, OwnVoiceOutcome.ASKING))
    asking = state.evolve(phase=Phase.OWN_VOICE, own_voice=run)
    return StepResult(asking, replies, tuple(effects), handover=True)


def _back_to_case(state: ConversationState) -> ConversationState:
    return state.evolve(phase=Phase.CASE_OPEN, own_voice=None)


def answer(
    state: ConversationState, inbound: Inbound, ctx: FlowContext, *, crisis: bool = False
) -> StepResult:
    """One answer (or "skip", or "stop"); then the next question, or the thanks. With
    ``crisis`` the answer is kept and the round ends quietly: the crisis answer speaks."""
    run = state.own_voice
    lang = state.language
    if run is None or run.position >= len(run.questions):
        return StepResult(_back_to_case(state), ())
    if inbound.button == STOP:
        return stop(state, ctx)
    skipped = inbound.button == SKIP
    if not skipped and not inbound.text.strip():  # an old button: the question again
        return StepResult(state, (question(ctx, lang, run),), handover=True)
    answered = OwnVoiceAnswer(run.request, run.reference, run.position, skipped)
    if crisis:
        ended = OwnVoiceProgress(run.request, OwnVoiceOutcome.STOPPED)
        return StepResult(_back_to_case(state), (), (answered, ended), handover=True)
    following = run.position + 1
    if following < len(run.questions):
        moved = OwnVoiceRun(run.request, run.reference, run.questions, run.thanks, following)
        return StepResult(
            state.evolve(own_voice=moved),
            (question(ctx, lang, moved),),
            (answered,),
            handover=True,
        )
    done = OwnVoiceProgress(run.request, OwnVoiceOutcome.DONE)
    thanks = run.thanks.strip() or ctx.t(N_("ownvoice.default.thanks"), lang)
    return StepResult(
        _back_to_case(state), (Outbound(thanks, lang),), (answered, done), handover=True
    )


def stop(state: ConversationState, ctx: FlowContext) -> StepResult:
    """The citizen stops the questions: what they answered is kept; the case goes on."""
    run = state.own_voice
    lang = state.language
    effects = () if run is None else (OwnVoiceProgress(run.request, OwnVoiceOutcome.STOPPED),)
    told = Outbound(ctx.t(N_("ownvoice.stopped"), lang), lang)
    return StepResult(_back_to_case(state), (told,), effects, handover=True)


def interrupted(result: StepResult) -> StepResult:
    """Danger came some other way than in an answer (the "someone is in danger now" button,
    a photo's caption): the questions end quietly, before the crisis answer."""
    run = result.state.own_voice
    if result.state.phase is not Phase.OWN_VOICE or run is None:
        return result
    ended = OwnVoiceProgress(run.request, OwnVoiceOutcome.STOPPED)
    return replace(result, state=_back_to_case(result.state), effects=(*result.effects, ended))


def closed(state: ConversationState) -> tuple[ConversationState, tuple[OwnVoiceProgress, ...]]:
    """The case closed while questions were running: the round ends (as stopped)."""
    run = state.own_voice
    if run is None:
        return state, ()
    return state.evolve(own_voice=None), (OwnVoiceProgress(run.request, OwnVoiceOutcome.STOPPED),)
