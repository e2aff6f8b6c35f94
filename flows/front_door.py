"""The front door: the one step function every channel's message goes through.

Order matters: language, unreadable input, the crisis check (always, in every phase),
commands, then the phase the conversation is in.
"""

from __future__ import annotations

from dataclasses import replace

from flows import (
    answers,
    callback,
    case,
    control,
    documents,
    intake,
    own_voice,
    rights,
    trusted,
    unplaced,
    voice,
)
from flows.commands import Command, detect
from flows.effects import AppendToCase, DeleteData, MarkUrgent, OpenCase, UnplacedReason
from flows.result import StepResult
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from nlu.crisis import CrisisSignal
from nlu.understanding import LOS_TOPIC, Understanding

INTAKE_PHASES = frozenset(
    {
        Phase.INTAKE_ABOUT,
        Phase.INTAKE_AGE,
        Phase.INTAKE_CONSENT,
        Phase.INTAKE_STRENGTHS,
        Phase.INTAKE_DESCRIBE,
        Phase.INTAKE_CONTACT,
        Phase.INTAKE_CALLBACK_TIME,
        Phase.INTAKE_CALLBACK,
        Phase.INTAKE_CONFIRM,
        Phase.ANON_QUESTION,
    }
)
TAKES_CITIZEN_WORDS = frozenset(
    {
        Phase.INTAKE_STRENGTHS,
        Phase.INTAKE_DESCRIBE,
        Phase.ANON_QUESTION,
        Phase.CASE_OPEN,
        Phase.OWN_VOICE,
        Phase.TRUSTED,
    }
)
LANGUAGE_PREFIX = "lang:"
DANGER_NOW = answers.DANGER_NOW_BUTTON
DANGER_OFFER_EVERY = 5
"""Turns between two offers of the emergency numbers for a message that only may tell of
danger (a citizen writing about a hard time is not told the numbers on every line)."""


def step(
    state: ConversationState, inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> StepResult:
    """Answer one message (or event)."""
    if inbound.button is not None and inbound.button.startswith(case.EVENT_PREFIX):
        if own_voice.is_event(inbound.button):
            return own_voice.on_event(state, inbound, ctx)
        if callback.is_event(inbound.button):
            return callback.on_event(state, inbound, ctx)
        return case.on_event(state, inbound, ctx)
    pressed = _pressed(inbound)
    if pressed is not None and state.turns == 0:  # a first press: in the page's language
        hint = inbound.language_hint
        state = state.evolve(language=hint) if hint in ctx.settings.languages.supported else state
    state = state.evolve(turns=state.turns + 1)
    state, chosen = unplaced.answered(state, inbound)
    result = _answer(state, inbound, understanding, ctx)
    if understanding.crisis is not None or result.crisis:
        result = unplaced.without_notes(result)
    if chosen:
        result = replace(result, effects=(*chosen, *result.effects))
    kept = result.state.noting(PRESSED, pressed) if pressed else result.state.forgetting(PRESSED)
    return replace(result, state=kept)


PRESSED = "pressed"
"""State.extra key: the button the citizen's last message pressed."""


def _pressed(inbound: Inbound) -> str | None:
    """The button an inbound presses (not a typed answer that names one)."""
    return inbound.button if inbound.button is not None and not inbound.text.strip() else None


def pressed_again(state: ConversationState, inbound: Inbound) -> bool:
    """A second press of the button just pressed, no longer offered (a double tap, or an old
    message's button tapped again): the router answers it with nothing and leaves the state
    as it is, so nothing is done or recorded twice. A press of "someone is in danger now" is
    always answered."""
    button = _pressed(inbound)
    return (
        button is not None
        and button != DANGER_NOW
        and button == state.extra.get(PRESSED)
        and button not in state.offered
    )


def _answer(
    state: ConversationState, inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> StepResult:
    switch = _requested_language(inbound, understanding, ctx)
    if switch is not None:
        return _switched(state.evolve(language=switch), ctx)
    if (
        inbound.text.strip()
        and inbound.button is None
        and not trusted.keeps_language(state, inbound)
    ):
        state = state.evolve(language=understanding.language)
        if state.register is None:  # the first written message sets the voice
            register = voice.first_register(ctx, inbound.text, state.language)
            state = state.evolve(register=register)
    lang = state.language

    pressed_danger = inbound.button == DANGER_NOW
    if pressed_danger and understanding.crisis is None:  # "someone is in danger now"
        signal = CrisisSignal("acute_danger", "barnevern", lang, "citizen")
        understanding = replace(understanding, crisis=signal)
    carried = inbound.attachment is not None
    notice = None if carried else _input_notice(inbound)
    if carried and not pressed_danger:  # a file: kept in the open case, or why not
        result = documents.received(state, inbound, ctx)
    elif notice is not None or pressed_danger:
        result = StepResult(state, ())
    else:
        result = _dispatch(state, inbound, understanding, ctx)
    if understanding.crisis is not None:  # on every path: captions and edits included
        shared = trusted.with_crisis(state, understanding, ctx)  # an invited person's words
        if shared is not None:
            result = shared
        else:
            result = _with_crisis(state, inbound, understanding, ctx, own_voice.interrupted(result))
    elif understanding.possible_danger and inbound.button is None:
        result = _with_danger_offer(state, ctx, result)
    if notice is not None:  # after any crisis answer: the danger comes first
        told = Outbound(ctx.t(notice, lang), lang)
        result = StepResult(
            result.state,
            (*result.replies, told),
            result.effects,
            result.topic,
            result.crisis,
            result.handover,
        )
    if inbound.truncated:
        note = Outbound(ctx.t(N_("input.truncated"), lang), lang)
        replies = (*result.replies, note) if result.crisis else (note, *result.replies)
        result = StepResult(
            result.state,
            replies,
            result.effects,
            result.topic,
            result.crisis,
            result.handover,
        )
    return result


def _input_notice(inbound: Inbound) -> str | None:
    """The catalog key of the notice for input the bot cannot take as a message, if any."""
    if inbound.unreadable:
        return N_("input.unreadable")
    if inbound.media == "edited":
        return N_("input.edited")
    if inbound.media is not None:
        return N_("input.media")
    if not inbound.text.strip() and inbound.button is None:
        return N_("input.empty")
    return None


def _dispatch(
    state: ConversationState, inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> StepResult:
    command = detect(inbound.text, inbound.button, ctx)
    if command is not None and not (command[0] is Command.PERSON and phase_takes_words(state)):
        return _command(state, command[0], ctx)
    phase = state.phase
    if phase is Phase.CONFIRM_DELETE:
        return rights.confirm_delete(state, inbound, ctx)
    rated = case.feedback(state, inbound, ctx)
    if rated is not None:
        return rated
    if phase is Phase.FEEDBACK:
        state = case.postpone_feedback(state)
        phase = state.phase
    if understanding.crisis is not None and phase not in TAKES_CITIZEN_WORDS:
        return StepResult(state, ())
    if phase is Phase.OWN_VOICE:  # an answer to the los's questions (crisis checked after)
        return own_voice.answer(state, inbound, ctx, crisis=understanding.crisis is not None)
    shared = trusted.step(state, inbound, understanding, ctx)  # a trusted person, a code
    if shared is not None:
        return shared
    if own_voice.is_stale_press(inbound):  # "skip" under a question no longer asked
        return StepResult(state, ())
    if phase in INTAKE_PHASES:
        asked = control.question_mid_intake(state, inbound, understanding, ctx)
        if asked is not None:  # answered; the intake waits and resumes
            return asked
        result = intake.step(state, inbound, ctx)
        if understanding.worry is not None and inbound.button is None:
            result = control.with_worry(state, understanding, ctx, result)
        return result
    if phase is Phase.CASE_OPEN:
        if inbound.button in (answers.PAYLOAD_PERSON, "anon"):
            return intake.start(state, ctx)
        return case.relay(state, inbound, ctx)
    return idle(state, inbound, understanding, ctx)


def phase_takes_words(state: ConversationState) -> bool:
    """Whether the citizen's words are content here (so "person" is not a command)."""
    return state.phase in TAKES_CITIZEN_WORDS or state.phase is Phase.INTAKE_CALLBACK


def idle(
    state: ConversationState, inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> StepResult:
    """No flow running: the person offer, services, small talk, or a polite 'not understood'."""
    lang = state.language
    if inbound.button == answers.PAYLOAD_PERSON:
        return intake.start(state, ctx)
    if inbound.button == "anon":
        return intake.start_anonymous(state, ctx)
    if inbound.button == answers.PAYLOAD_SOMETHING_ELSE:
        return StepResult(state, (answers.something_else(ctx, lang),))
    if inbound.button == answers.PAYLOAD_SERVICES:
        return StepResult(state, (answers.services_menu(ctx, lang),))
    if inbound.button is not None and inbound.button.startswith(answers.TOPIC_PREFIX):
        chosen = inbound.button[len(answers.TOPIC_PREFIX) :]
        if chosen in ctx.settings.service_ids:
            reply = answers.service_answer(ctx, chosen, lang, state.register)
            return StepResult(state.evolve(last_topic=chosen), (reply,), topic=chosen)
    if inbound.button is None and voice.greeting_only(inbound.text, lang):  # "Halla! Hva skjer?"
        return StepResult(state, (answers.greeting(ctx, lang, state.register),))
    if understanding.worry is not None and inbound.button is None:
        return control.worry_at_front_door(state, understanding, ctx)
    if understanding.topic == LOS_TOPIC:
        started = intake.start(state, ctx, inbound.text.strip())
        return StepResult(started.state, started.replies, started.effects, topic=LOS_TOPIC)
    if understanding.unsupported_language is not None:
        return StepResult(state, (_unsupported_language(ctx),))
    topic = understanding.topic
    if topic is not None and topic in ctx.settings.service_ids:
        reply = answers.service_answer(ctx, topic, lang, state.register)
        told = intake.remember_words(state.evolve(last_topic=topic), inbound.text)
        return StepResult(told, (reply,), topic=topic)
    if understanding.intent == "greet":
        return StepResult(state, (answers.greeting(ctx, lang, state.register),))
    if understanding.intent == "thanks":
        return StepResult(state, (answers.thanks(ctx, lang, state.register),))
    told = intake.remember_words(state, inbound.text)
    if understanding.alternatives:  # unsure: ask, don't guess and don't hand over
        asked = StepResult(told, (answers.clarify(ctx, lang, understanding.alternatives),))
        return unplaced.noted(asked, inbound, understanding, ctx, UnplacedReason.UNSURE)
    if understanding.intent == "out_of_scope" and understanding.from_model:
        other = StepResult(told, (answers.out_of_scope(ctx, lang),))  # clearly something else
        return unplaced.noted(other, inbound, understanding, ctx, UnplacedReason.OUT_OF_SCOPE)
    missed = StepResult(told, (answers.not_understood(ctx, lang),))
    return unplaced.noted(missed, inbound, understanding, ctx, UnplacedReason.NOT_UNDERSTOOD)


def audience_of(state: ConversationState, ctx: FlowContext) -> str | None:
    """Youth when the citizen is anonymous or a minor, adults when known, else unknown."""
    if ctx.age_is_minor or state.anonymous:
        return "youth"
    draft = state.intake
    if draft is not None and draft.about == "self" and draft.age_band is not None:
        return "adults" if draft.age_band == "18+" else "youth"
    return None


def _with_crisis(
    state: ConversationState,
    inbound: Inbound,
    understanding: Understanding,
    ctx: FlowContext,
    result: StepResult,
) -> StepResult:
    """Danger comes first, in every phase: the crisis answer, and at once an urgent case for
    a person (a new one if none is open, else the open one marked urgent). The citizen need
    not press or write anything more; the step the message interrupted gives way."""
    signal = understanding.crisis
    assert signal is not None
    lang = state.language
    urgent = MarkUrgent(signal.category, signal.topic, signal.lexicon_version)
    opened = next((e for e in result.effects if isinstance(e, OpenCase)), None)
    case_ref = state.case_ref if ctx.case_open else None
    if opened is None and case_ref is None:
        return _crisis_case(state, understanding, ctx, result, urgent)
    reference = opened.reference if opened is not None else case_ref
    assert reference is not None
    new_state = result.state.evolve(urgent=True, last_topic=result.state.last_topic or signal.topic)
    claimed = opened is None and ctx.case_claimed
    if claimed and state.urgent:  # answered in full already; a person is reading
        replies: tuple[Outbound, ...] = (answers.crisis_reminder(ctx, lang),)
    else:
        answer = answers.crisis_answer(ctx, lang, signal.category, audience_of(state, ctx))
        note = answers.crisis_case_note(
            ctx, lang, reference, opened=opened is not None, claimed=claimed
        )
        replies = (answer, note)
    relayed = any(isinstance(e, AppendToCase) for e in result.effects)
    others = () if opened is not None or relayed else result.replies  # the note says it
    return StepResult(
        new_state,
        (*replies, *others),
        (*result.effects, urgent),  # after OpenCase: a case opened by this message is urgent
        topic=signal.topic,
        crisis=True,
        handover=True,
    )


CONSENTED_INTAKE = frozenset(
    {
        Phase.INTAKE_STRENGTHS,
        Phase.INTAKE_DESCRIBE,
        Phase.INTAKE_CONTACT,
        Phase.INTAKE_CALLBACK_TIME,
        Phase.INTAKE_CALLBACK,
        Phase.INTAKE_CONFIRM,
    }
)


def _with_danger_offer(
    state: ConversationState, ctx: FlowContext, result: StepResult
) -> StepResult:
    """A message that may tell of danger (by meaning, not sure enough for the crisis answer):
    the emergency numbers and a "someone is in danger now" button go first, then the answer
    as usual. Not again within ``DANGER_OFFER_EVERY`` turns."""
    last = result.state.extra.get("danger_offered", "")
    if last.isdigit() and state.turns - int(last) < DANGER_OFFER_EVERY:
        return result
    extra = {**result.state.extra, "danger_offered": str(state.turns)}
    offer = answers.danger_offer(ctx, state.language)
    return replace(result, state=result.state.evolve(extra=extra), replies=(offer, *result.replies))


def _crisis_case(
    state: ConversationState,
    understanding: Understanding,
    ctx: FlowContext,
    result: StepResult,
    urgent: MarkUrgent,
) -> StepResult:
    """No case is open: open an urgent one now. With consent given in this intake it carries
    what the citizen has told so far; otherwise it is anonymous (the conversation handle,
    the words that raised the flag and the kind of danger; no identity)."""
    signal = understanding.crisis
    assert signal is not None
    lang = state.language
    if any(isinstance(e, DeleteData) for e in result.effects):
        answer = answers.crisis_answer(ctx, lang, signal.category, None)
        return StepResult(result.state, (answer, *result.replies), result.effects, crisis=True)
    consented = state.consent_version is not None and state.phase in CONSENTED_INTAKE
    draft = (result.state.intake or state.intake) if consented else None
    if draft is None:
        draft = IntakeDraft(contact="chat", worries=intake.noted_worries(state))
    if understanding.worry is not None:  # afraid of who gets to know: the los must see it
        draft = intake.with_worry(draft, understanding.worry)
    draft = replace(draft, topic=signal.topic, contact=draft.contact or "chat")
    reference = ctx.new_case_reference
    effect = OpenCase(reference, draft, True, not consented, lang, with_context=True)
    opened = result.state.evolve(
        phase=Phase.CASE_OPEN,
        case_ref=reference,
        intake=None,
        urgent=True,
        anonymous=not consented,
        resume_phase=None,
        last_topic=signal.topic,
    )
    answer = answers.crisis_answer(ctx, lang, signal.category, audience_of(state, ctx))
    note = answers.crisis_case_note(ctx, lang, reference, opened=True, claimed=False)
    return StepResult(
        opened,
        (answer, note),
        (*result.effects, effect, urgent),
        topic=signal.topic,
        crisis=True,
        handover=True,
    )


def _requested_language(
    inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> str | None:
    supported = ctx.settings.languages.supported
    if inbound.button and inbound.button.startswith(LANGUAGE_PREFIX):
        code = inbound.button[len(LANGUAGE_PREFIX) :]
        return code if code in supported else None
    command = detect(inbound.text, None, ctx)
    if command is not None and command[0] is Command.LANGUAGE and command[1][:2] in supported:
        return command[1][:2]
    if understanding.language_switch in supported and understanding.crisis is None:
        return understanding.language_switch
    return None


def _switched(state: ConversationState, ctx: FlowContext) -> StepResult:
    return StepResult(
        state, (Outbound(ctx.t(N_("language.switched"), state.language), state.language),)
    )


def language_choice(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Buttons with every supported language, each in its own name."""
    buttons = tuple(
        Button(answers.LANGUAGE_NAME[code], f"{LANGUAGE_PREFIX}{code}")
        for code in ctx.settings.languages.supported
    )
    text = ctx.t(N_("language.choose"), state.language)
    return StepResult(state, (Outbound(text, state.language, buttons),))


def _unsupported_language(ctx: FlowContext) -> Outbound:
    names = ", ".join(answers.LANGUAGE_NAME[c] for c in ctx.settings.languages.supported)
    english = ctx.t(N_("language.unsupported"), "en", languages=names)
    bokmal = ctx.t(N_("language.unsupported"), "nb", languages=names)
    buttons = tuple(
        Button(answers.LANGUAGE_NAME[code], f"{LANGUAGE_PREFIX}{code}")
        for code in ctx.settings.languages.supported
    )
    return Outbound(f"{english}\n\n{bokmal}", "en", buttons)


def _command(state: ConversationState, command: Command, ctx: FlowContext) -> StepResult:
    lang = state.language
    if command in (Command.START, Command.HELP):
        return StepResult(state, (answers.greeting(ctx, lang, state.register),))
    if command is Command.LANGUAGE:
        return language_choice(state, ctx)
    if command is Command.ANONYMOUS:
        return intake.start_anonymous(state, ctx)
    if command is Command.MY_DATA:
        return rights.my_data(state, ctx)
    if command is Command.DELETE:
        return rights.ask_delete(state, ctx)
    if command is Command.WITHDRAW:
        return rights.withdraw(state, ctx)
    if command is Command.PERSON:
        return intake.start(state, ctx)
    if state.phase is Phase.OWN_VOICE:  # "stopp": the questions end, the case goes on
        return own_voice.stop(state, ctx)
    if state.phase in trusted.PHASES:  # joining ends; taking part, "stop" is leaving
        return trusted.stop(state, ctx)
    if state.phase in INTAKE_PHASES and state.case_ref is None:  # "avbryt", "cancel", "stopp"
        return intake.cancel(state, ctx)
    return rights.stop(state, ctx)
