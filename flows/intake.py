"""Intake: who it is about, age band, consent, strengths first, the citizen's own words,
contact, summary.

Also the anonymous question, for young people and for anyone who does not consent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flows import answers, callback, voice
from flows.effects import OpenCase, RecordConsent, WithdrawConsent
from flows.result import StepResult
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from flows.when import when_read
from nlu.understanding import LOS_TOPIC

CONSENT_VERSION = "2026-11-v1"
CONSENT_VERSION_SHORT = "2026-11-v2-sms"
"""The short consent text of SMS: v2 leaves out when the los reads it (the receipt says it)
and has short choices, so that it takes at most 4 SMS in UCS-2 too (pl, uk, ar)."""
CONSENT_CHOICES = (
    (N_("consent.button.yes_services"), "consent:services"),
    (N_("consent.button.yes_los"), "consent:los"),
    (N_("consent.button.no"), "consent:no"),
    (N_("consent.button.anonymous"), "anon"),
)
CONSENT_CHOICES_SHORT = (
    (N_("consent.button.yes_services.sms"), "consent:services"),
    (N_("consent.button.yes_los.sms"), "consent:los"),
    (N_("consent.button.no.sms"), "consent:no"),
    (N_("consent.button.anonymous.sms"), "anon"),
)
"""The shorter consent text for channels that cannot carry the full one whole (SMS)."""
SCOPE_SERVICES = "familielos+services"
SCOPE_LOS_ONLY = "familielos"
ABOUT = {
    "self": N_("intake.about.self"),
    "child": N_("intake.about.child"),
    "other_child": N_("intake.about.other_child"),
}
CHILD_AGE_BANDS = ("0-5", "6-12", "13-17")
DONE = "done"
MIN_FREE_TEXT_AS_DESCRIPTION = 40
LAST_WORDS = "last_words"
"""State.extra key: the citizen's last long free-text message, for the intake to start from."""
WORRIES = "worries"
"""State.extra key: worries voiced before an intake ("confidentiality"), ","-separated, for
the case the los reads."""
CANCEL = "intake:cancel"
"""The way out of the intake, offered in every step."""
SKIP_STRENGTHS = "strengths:skip"
"""The one-tap "Hopp over" of the strengths question."""


def _button(ctx: FlowContext, key: str, language: str, payload: str) -> Button:
    return Button(ctx.t(key, language), payload)


def _say(ctx: FlowContext, key: str, state: ConversationState, **params: object) -> str:
    """The text for ``key`` in the conversation's language and register."""
    return voice.text(ctx, key, state.language, state.register, **params)


def _reply(state: ConversationState, text: str, *buttons: Button) -> StepResult:
    return StepResult(state, (Outbound(text, state.language, tuple(buttons)),))


def cancel_button(ctx: FlowContext, language: str) -> Button:
    """ "Avbryt": ends the intake without storing it."""
    return _button(ctx, N_("intake.button.cancel"), language, CANCEL)


def _step_reply(
    state: ConversationState, ctx: FlowContext, text: str, *buttons: Button
) -> StepResult:
    """An intake step's question, with its choices and the way out."""
    return _reply(state, text, *buttons, cancel_button(ctx, state.language))


def with_worry(draft: IntakeDraft, worry: str) -> IntakeDraft:
    """The draft, remembering a worry the citizen voiced (once)."""
    return draft if worry in draft.worries else replace(draft, worries=(*draft.worries, worry))


def noted_worries(state: ConversationState) -> tuple[str, ...]:
    """The worries voiced before an intake began."""
    return tuple(w for w in state.extra.get(WORRIES, "").split(",") if w)


def note_worry(state: ConversationState, worry: str) -> ConversationState:
    """Remember a worry voiced outside an intake, for the case an intake may open later."""
    known = noted_worries(state)
    return state if worry in known else state.noting(WORRIES, ",".join((*known, worry)))


def cancel(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Leave the intake: nothing is sent or kept (a consent given for it is withdrawn), and
    the citizen is back at the front door."""
    lang = state.language
    effects = (WithdrawConsent(),) if state.consent_version and state.case_ref is None else ()
    cancelled = (
        state.forgetting(LAST_WORDS)
        .forgetting(WORRIES)
        .evolve(phase=Phase.IDLE, intake=None, consent_version=None, anonymous=False)
    )
    text = ctx.t(N_("control.cancelled"), lang)
    reply = Outbound(text, lang, (answers.person_button(ctx, lang),))
    return StepResult(cancelled, (reply,), effects)


def self_age_bands(ctx: FlowContext) -> tuple[str, ...]:
    """Age bands for a young person writing about themselves, split at the consent age."""
    age = ctx.settings.consent_age
    return (f"<{age}", f"{age}-17", "18+")


def is_under_consent_age(band: str) -> bool:
    """Whether a self-reported band is below the consent age."""
    return band.startswith("<")


def remember_words(state: ConversationState, text: str) -> ConversationState:
    """Keep a citizen's own account of their situation (a long free-text message answered
    with a service's details), so that the intake that may follow does not ask again."""
    words = text.strip()
    if len(words) < MIN_FREE_TEXT_AS_DESCRIPTION:
        return state
    return state.noting(LAST_WORDS, words)


def start(state: ConversationState, ctx: FlowContext, first_words: str = "") -> StepResult:
    """Begin the intake (or point to the open case). The citizen's earlier account, if any,
    is the start of the description: shown in the summary, and theirs to change."""
    if state.case_ref is not None:
        text = ctx.t(N_("intake.already_open"), state.language, reference=state.case_ref)
        return _reply(state.evolve(phase=Phase.CASE_OPEN), text)
    if state.urgent:
        return start_anonymous(state, ctx, urgent=True)  # danger: a person now, no forms
    first_words = first_words or state.extra.get(LAST_WORDS, "")
    state = state.forgetting(LAST_WORDS)
    description = (first_words,) if len(first_words) >= MIN_FREE_TEXT_AS_DESCRIPTION else ()
    draft = IntakeDraft(
        description=description,
        topic=state.last_topic or LOS_TOPIC,
        worries=noted_worries(state),
    )
    state = state.forgetting(WORRIES)
    return ask_about(state.evolve(phase=Phase.INTAKE_ABOUT, intake=draft), ctx)


def ask_about(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Who is this about?"""
    lang = state.language
    text = _say(ctx, N_("intake.ask_about"), state, municipality=ctx.settings.municipality.name)
    buttons = [_button(ctx, key, lang, f"about:{value}") for value, key in ABOUT.items()]
    return _step_reply(state, ctx, text, *buttons)


def ask_age(state: ConversationState, ctx: FlowContext) -> StepResult:
    """The child's (or the writer's) age band."""
    lang = state.language
    draft = state.intake or IntakeDraft()
    if draft.about == "self":
        bands = self_age_bands(ctx)
        labels = [
            ctx.t(N_("intake.age.under"), lang, age=ctx.settings.consent_age),
            ctx.t(N_("intake.age.range"), lang, band=bands[1]),
            ctx.t(N_("intake.age.adult"), lang),
        ]
        text = _say(ctx, N_("intake.ask_age_self"), state)
    else:
        bands = CHILD_AGE_BANDS
        labels = [ctx.t(N_("intake.age.range"), lang, band=band) for band in bands]
        text = ctx.t(N_("intake.ask_age_child"), lang)
    buttons = [Button(label, f"age:{band}") for label, band in zip(labels, bands, strict=True)]
    return _step_reply(state, ctx, text, *buttons)


def ask_consent(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Say plainly what happens and ask for consent, with a clear choice."""
    lang = state.language
    text = consent_text(ctx, lang)
    labels = CONSENT_CHOICES_SHORT if ctx.short_texts else CONSENT_CHOICES
    buttons = (_button(ctx, key, lang, payload) for key, payload in labels)
    return _step_reply(state, ctx, text, *buttons)


def consent_version(ctx: FlowContext) -> str:
    """The version of the consent text this channel shows."""
    return CONSENT_VERSION_SHORT if ctx.short_texts else CONSENT_VERSION


def consent_text(ctx: FlowContext, language: str) -> str:
    """The exact consent text shown on this channel (its hash is recorded with the consent):
    on a channel that cannot carry the full text whole, the shorter one."""
    return ctx.t(
        N_("consent.text_sms") if ctx.short_texts else N_("consent.text"),
        language,
        municipality=ctx.settings.municipality.name,
        when=when_read(ctx, language),
        days=ctx.settings.retention.closed_case_days,
    )


def ask_strengths(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Strengths first: what the child (or the young person) likes and is good at or proud
    of, in their own words, before the problems; "Hopp over" skips it in one tap."""
    lang = state.language
    draft = state.intake or IntakeDraft()
    key = (
        N_("intake.strengths.question_self")
        if draft.about == "self"
        else N_("intake.strengths.question")
    )
    skip = _button(ctx, N_("intake.button.skip"), lang, SKIP_STRENGTHS)
    return _step_reply(state.evolve(phase=Phase.INTAKE_STRENGTHS), ctx, _say(ctx, key, state), skip)


def ask_description(state: ConversationState, ctx: FlowContext) -> StepResult:
    """In your own words, as many messages as you like, then Done."""
    lang = state.language
    draft = state.intake or IntakeDraft()
    key = N_("intake.describe_more") if draft.description else N_("intake.describe")
    return _step_reply(
        state, ctx, _say(ctx, key, state), _button(ctx, N_("intake.button.done"), lang, DONE)
    )


def ask_contact(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Here in the chat, or a call back?"""
    lang = state.language
    return _step_reply(
        state,
        ctx,
        _say(ctx, N_("intake.ask_contact"), state),
        _button(ctx, N_("intake.contact.chat"), lang, "contact:chat"),
        _button(ctx, N_("intake.contact.call"), lang, "contact:call"),
    )


def summary(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Show what will be sent, verbatim, and let the citizen send, correct or cancel."""
    lang = state.language
    draft = state.intake or IntakeDraft()
    about = ctx.t(ABOUT.get(draft.about or "self", ABOUT["self"]), lang)
    contact = (
        callback.summary_line(ctx, draft, lang)
        if draft.contact == "call"
        else ctx.t(N_("intake.contact.chat"), lang)
    )
    words = "\n".join(f"« {line} »" for line in draft.description)
    if draft.strengths:  # what goes well comes first
        strengths = ctx.t(N_("intake.summary.strengths"), lang, strengths=draft.strengths)
        words = f"{strengths}\n{words}"
    text = ctx.t(
        N_("intake.summary"),
        lang,
        about=about,
        age=draft.age_band or "-",
        description=words,
        contact=contact,
    )
    return _reply(
        state.evolve(phase=Phase.INTAKE_CONFIRM),
        text,
        _button(ctx, N_("intake.button.send"), lang, "confirm:send"),
        _button(ctx, N_("intake.button.edit"), lang, "confirm:edit"),
        _button(ctx, N_("intake.button.cancel"), lang, "confirm:cancel"),
    )


def _please_choose(state: ConversationState, ctx: FlowContext, again: StepResult) -> StepResult:
    note = Outbound(ctx.t(N_("intake.please_choose"), state.language), state.language)
    return StepResult(again.state, (note, *again.replies), again.effects)


def step(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """One step of the intake, by phase."""
    draft = state.intake or IntakeDraft()
    button = inbound.button or ""
    text = inbound.text.strip()
    lang = state.language

    if button == CANCEL:
        return cancel(state, ctx)
    if button == "anon" and state.phase is not Phase.ANON_QUESTION:  # the "ask anonymously" choice
        left = cancel(state, ctx)
        kept = left.state
        for worry in draft.worries:  # the anonymous question carries them to the los
            kept = note_worry(kept, worry)
        asked = start_anonymous(kept, ctx)
        return StepResult(asked.state, asked.replies, left.effects)

    if state.phase is Phase.INTAKE_ABOUT:
        if button.startswith("about:") and button[6:] in ABOUT:
            state = state.evolve(phase=Phase.INTAKE_AGE, intake=_with(draft, about=button[6:]))
            return ask_age(state, ctx)
        if len(text) >= MIN_FREE_TEXT_AS_DESCRIPTION:
            draft = _with(draft, description=(*draft.description, text))
            state = state.evolve(intake=draft)
            noted = Outbound(_say(ctx, N_("intake.noted"), state), lang)
            again = ask_about(state, ctx)
            return StepResult(again.state, (noted, *again.replies))
        return _please_choose(state, ctx, ask_about(state, ctx))

    if state.phase is Phase.INTAKE_AGE:
        bands = self_age_bands(ctx) if draft.about == "self" else CHILD_AGE_BANDS
        if button.startswith("age:") and button[4:] in bands:
            band = button[4:]
            draft = _with(draft, age_band=band)
            young = band != "18+"
            state = state.evolve(register=voice.after_age(ctx, state.register, draft.about, young))
            if draft.about == "self" and is_under_consent_age(band):
                return start_anonymous(state.evolve(intake=None), ctx, minor=True)
            return ask_consent(state.evolve(phase=Phase.INTAKE_CONSENT, intake=draft), ctx)
        return _please_choose(state, ctx, ask_age(state, ctx))

    if state.phase is Phase.INTAKE_CONSENT:
        if button in ("consent:services", "consent:los"):
            scope = SCOPE_SERVICES if button == "consent:services" else SCOPE_LOS_ONLY
            version = consent_version(ctx)
            effect = RecordConsent(
                version,
                lang,
                (scope,),
                consent_text(ctx, lang),
                ctx.settings.retention.closed_case_days,  # as the text says
            )
            state = state.noting("consent_scope", scope).evolve(consent_version=version)
            result = ask_strengths(state, ctx)
            thanks = Outbound(ctx.t(N_("consent.recorded"), lang), lang)
            return StepResult(result.state, (thanks, *result.replies), (effect,))
        if button == "consent:no":
            return declined(state, ctx)
        if button == "anon":
            return start_anonymous(state.evolve(intake=None), ctx)
        return _please_choose(state, ctx, ask_consent(state, ctx))

    if state.phase is Phase.INTAKE_STRENGTHS:
        if button == SKIP_STRENGTHS or text:
            strengths = text if button != SKIP_STRENGTHS else None
            state = state.evolve(
                phase=Phase.INTAKE_DESCRIBE, intake=_with(draft, strengths=strengths)
            )
            asked = ask_description(state, ctx)
            if strengths is None:
                return asked
            thanks = Outbound(_say(ctx, N_("intake.strengths.thanks"), state), lang)
            return StepResult(asked.state, (thanks, *asked.replies))
        return ask_strengths(state, ctx)

    if state.phase is Phase.INTAKE_DESCRIBE:
        if button == DONE:
            if not draft.description:
                return ask_description(state, ctx)
            if state.anonymous:
                return summary(state.evolve(intake=_with(draft, contact="chat")), ctx)
            return ask_contact(state.evolve(phase=Phase.INTAKE_CONTACT), ctx)
        if text:
            state = state.evolve(intake=_with(draft, description=(*draft.description, text)))
            return _step_reply(
                state,
                ctx,
                _say(ctx, N_("intake.got_it"), state),
                _button(ctx, N_("intake.button.done"), lang, DONE),
            )
        return ask_description(state, ctx)

    if state.phase is Phase.INTAKE_CONTACT:
        if button == "contact:chat":
            return summary(state.evolve(intake=_with(draft, contact="chat")), ctx)
        if button == "contact:call":
            draft = _with(draft, contact="call", callback_when=None, callback_slot=None)
            if callback.offers_slots(state, ctx):  # a time that suits, from the free slots
                return callback.offer(state.evolve(intake=draft), ctx)
            state = state.evolve(phase=Phase.INTAKE_CALLBACK, intake=draft)
            return ask_callback(state, ctx)
        return _please_choose(state, ctx, ask_contact(state, ctx))

    if state.phase is Phase.INTAKE_CALLBACK_TIME:
        return _callback_time(state, inbound, ctx)

    if state.phase is Phase.INTAKE_CALLBACK:
        if text:
            joined = draft.callback_when == callback.WHEN_OTHER and draft.callback
            words = f"{draft.callback}, {text}" if joined else text
            return summary(state.evolve(intake=_with(draft, callback=words)), ctx)
        chose = draft.callback_when in (callback.WHEN_SLOT, callback.WHEN_ANY)
        return ask_callback(state, ctx, number_only=chose)

    if state.phase is Phase.INTAKE_CONFIRM:
        if button == "confirm:send" and not callback.still_free(draft, ctx):
            taken = _with(draft, callback_when=None, callback_slot=None)
            note = ctx.t(N_("callback.taken"), lang)
            return callback.offer(state.evolve(intake=taken), ctx, note)
        if button == "confirm:send":
            return submit(state, ctx)
        if button == "confirm:edit":
            state = state.evolve(phase=Phase.INTAKE_DESCRIBE, intake=_with(draft, description=()))
            return _step_reply(
                state,
                ctx,
                _say(ctx, N_("intake.rewrite"), state),
                _button(ctx, N_("intake.button.done"), lang, DONE),
            )
        if button == "confirm:cancel":
            effects = (WithdrawConsent(),) if state.consent_version else ()
            cancelled = state.evolve(phase=Phase.IDLE, intake=None, consent_version=None)
            return StepResult(
                cancelled, (Outbound(ctx.t(N_("intake.cancelled"), lang), lang),), effects
            )
        return _please_choose(state, ctx, summary(state, ctx))

    if state.phase is Phase.ANON_QUESTION:
        if not text:
            return start_anonymous(state, ctx)
        draft = IntakeDraft(
            description=(text,),
            contact="chat",
            topic=state.last_topic,
            worries=noted_worries(state),
        )
        return submit(state.forgetting(WORRIES).evolve(intake=draft, anonymous=True), ctx)

    return ask_about(state.evolve(phase=Phase.INTAKE_ABOUT), ctx)


def ask_callback(
    state: ConversationState, ctx: FlowContext, number_only: bool = False
) -> StepResult:
    """The phone number to call back on, and when it suits (only the number once a time
    was chosen)."""
    key = N_("callback.ask_number") if number_only else N_("intake.ask_callback")
    return _step_reply(state.evolve(phase=Phase.INTAKE_CALLBACK), ctx, _say(ctx, key, state))


MIN_PHONE_DIGITS = 8
"""A callback answer with at least this many digits already holds the number."""


def _callback_time(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """The answer to "when should the los call?": then the number (unless it is known)."""
    chosen, shown = callback.answer_time(state, inbound, ctx)
    if shown is not None:
        return shown
    if inbound.button == callback.OTHER:  # their own words: when, and the number
        return ask_callback(chosen, ctx)
    draft = chosen.intake or IntakeDraft()
    if sum(ch.isdigit() for ch in draft.callback or "") >= MIN_PHONE_DIGITS:
        return summary(chosen, ctx)
    return ask_callback(chosen, ctx, number_only=True)


def _with(draft: IntakeDraft, **changes: Any) -> IntakeDraft:
    return replace(draft, **changes)


def declined(state: ConversationState, ctx: FlowContext) -> StepResult:
    """No consent: nothing is stored as a case; offer an anonymous question or public contacts."""
    lang = state.language
    parts = [ctx.t(N_("consent.declined.sms") if ctx.short_texts else N_("consent.declined"), lang)]
    topic = state.last_topic
    if topic in ctx.settings.service_ids and topic is not None:
        parts.append(
            answers.service_name(ctx, topic, lang)
            + "\n"
            + "\n".join(answers.contact_lines(ctx, topic, lang))
        )
    buttons = (_button(ctx, N_("consent.button.anonymous"), lang, "anon"),)
    return StepResult(
        state.evolve(phase=Phase.IDLE, intake=None), (Outbound("\n\n".join(parts), lang, buttons),)
    )


def start_anonymous(
    state: ConversationState, ctx: FlowContext, minor: bool = False, urgent: bool = False
) -> StepResult:
    """Ask a question without saying who you are (after a crisis: one step to a person)."""
    lang = state.language
    if state.case_ref is not None:
        text = ctx.t(N_("intake.already_open"), lang, reference=state.case_ref)
        return _reply(state.evolve(phase=Phase.CASE_OPEN), text)
    if minor:  # a young person writing about themselves: the youth voice from here on
        state = state.evolve(register=voice.after_age(ctx, state.register, "self", True))
    key = N_("anonymous.intro_minor") if minor else N_("anonymous.intro")
    if urgent:
        key = N_("anonymous.intro_urgent")
    text = ctx.t(key, lang, age=ctx.settings.consent_age, when=when_read(ctx, lang))
    anonymous = state.forgetting(LAST_WORDS).evolve(
        phase=Phase.ANON_QUESTION, anonymous=True, intake=None
    )
    if urgent:  # after danger: one step to a person, nothing to choose
        return _reply(anonymous, text)
    return _step_reply(anonymous, ctx, text)


def submit(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Send the case to the on-duty los queue and say what happens next."""
    lang = state.language
    draft = state.intake or IntakeDraft()
    reference = ctx.new_case_reference
    effect = OpenCase(reference, draft, state.urgent, state.anonymous, lang)
    key = N_("case.opened_anonymous") if state.anonymous else N_("case.opened")
    parts = [_say(ctx, key, state, reference=reference, when=when_read(ctx, lang))]
    confirmed = None if state.anonymous else callback.confirmation(ctx, draft, lang)
    if confirmed is not None:  # the time the los will call, and the reminder
        parts.append(confirmed)
    replies = [Outbound("\n\n".join(parts), lang)]
    audience = "youth" if state.anonymous else None
    if not ctx.office_open and ctx.short_texts:  # the numbers in an SMS of their own
        replies.append(Outbound(answers.closed_numbers_sms(ctx, lang, audience), lang))
    elif not ctx.office_open:
        parts.append(ctx.t(N_("case.out_of_hours_crisis"), lang))
        parts.append(answers.crisis_lines_text(ctx, lang, audience))
        replies = [Outbound("\n\n".join(parts), lang)]
    opened = state.evolve(phase=Phase.CASE_OPEN, case_ref=reference, intake=None)
    return StepResult(opened, tuple(replies), (effect,), topic=draft.topic, handover=True)
