"""Messages the bot could not place: noted, masked and unlinked, for the content editors.

A note is taken when the front door is unsure (and asks the citizen to choose), calls a
message clearly something else (not a greeting or thanks), or understands nothing. Never for
a crisis, a message that may tell of danger, a button, or a citizen who asked to be
anonymous. The conversation remembers the note's random token for one turn: when the
citizen then presses one of the offered choices, that choice is added to the note, and the
token is forgotten either way.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from flows import answers
from flows.effects import Effect, NoteUnplaced, UnplacedChosen, UnplacedReason
from flows.result import StepResult
from flows.state import ConversationState
from flows.types import FlowContext, Inbound
from nlu.masking import mask
from nlu.understanding import LOS_TOPIC, Understanding

PENDING = "unplaced"
"""State.extra key: the token of the note whose choice the citizen may answer next."""


def noted(
    result: StepResult,
    inbound: Inbound,
    understanding: Understanding,
    ctx: FlowContext,
    reason: UnplacedReason,
) -> StepResult:
    """``result`` with a note of the unplaced message, when one may be taken."""
    state = result.state
    if (
        not ctx.note_token
        or state.anonymous
        or understanding.crisis is not None
        or understanding.possible_danger
        or inbound.button is not None
        or not inbound.text.strip()
    ):
        return result
    guessed = understanding.alternatives[0] if understanding.alternatives else None
    day = ctx.now.astimezone(ZoneInfo(ctx.settings.municipality.timezone)).date()
    note = NoteUnplaced(
        ctx.note_token,
        mask(inbound.text),
        state.language,
        reason,
        guessed,
        round(understanding.confidence, 3),
        day,
    )
    return replace(
        result, state=state.noting(PENDING, ctx.note_token), effects=(*result.effects, note)
    )


def choice_of(inbound: Inbound) -> str | None:
    """What a pressed (or typed-as-chosen) button chose: a service, a person, or other."""
    button = inbound.button
    if button is None:
        return None
    if button == answers.PAYLOAD_PERSON:
        return LOS_TOPIC
    if button == answers.PAYLOAD_SOMETHING_ELSE:
        return "other"
    if button.startswith(answers.TOPIC_PREFIX):
        return button[len(answers.TOPIC_PREFIX) :]
    return None


def answered(
    state: ConversationState, inbound: Inbound
) -> tuple[ConversationState, tuple[Effect, ...]]:
    """The state without the pending note's token, and the choice to add to the note if
    this message chose one."""
    token = state.extra.get(PENDING)
    if token is None:
        return state, ()
    chosen = choice_of(inbound)
    effects: tuple[Effect, ...] = () if chosen is None else (UnplacedChosen(token, chosen),)
    return state.forgetting(PENDING), effects


def without_notes(result: StepResult) -> StepResult:
    """``result`` with no note taken (a crisis: its words are never kept for editors)."""
    effects = tuple(e for e in result.effects if not isinstance(e, NoteUnplaced))
    if len(effects) == len(result.effects):
        return result
    return replace(result, state=result.state.forgetting(PENDING), effects=effects)
