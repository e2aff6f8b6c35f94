"""A trusted person in the conversation (*mitt nettverk*). The young person who owns a case
asks for a one-time code (or link) and shares it themselves; whoever sends it (on any
channel) is told only that "a young person invited you", gives a first name, accepts the
rules and then takes part: they get the los's messages from then on (not the history), and
what they write goes to the case marked with their first name. The young person lists who
is in and removes anyone at any time; the invited person can leave.

The router looks the facts up before the step (``ctx.trusted``): the code a message carries,
a fresh code to hand out, who takes part. The crisis check runs on an invited person's
words as on everyone's (the front door's): a crisis makes the young person's case urgent.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows import answers, case
from flows.effects import (
    ClaimInvite,
    CreateInvite,
    JoinCase,
    ParticipantSaid,
    RemoveParticipant,
)
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.trusted_facts import CodeStatus
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from nlu.understanding import Understanding

INVITE = "trusted:invite"
MEMBERS = "trusted:members"
REMOVE = "trusted:remove:"
ACCEPT = "trusted:accept"
DECLINE = "trusted:decline"
LEAVE = "trusted:leave"
PHASES = frozenset({Phase.TRUSTED_NAME, Phase.TRUSTED_RULES, Phase.TRUSTED})
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I/L: a code read aloud or copied by hand stays right."""
CODE_LENGTH = 8
RULES_VERSION = "trusted-2026-11-27"
"""The version of the rules text an invited person accepts (recorded with its text)."""
INVITE_KEY = "trusted_invite"
"""State.extra: the invitation this conversation is joining (its store id)."""
NAME_KEY = "trusted_name"
"""State.extra: the first name given while joining."""
TRIES_KEY = "trusted_tries"
"""State.extra: "<count>:<ISO time of the first>" of codes that did not work."""
MAX_NAME = 30
SLASH_KEYS = {
    INVITE: N_("trusted.slash.invite"),
    MEMBERS: N_("trusted.slash.members"),
    LEAVE: N_("trusted.slash.leave"),
}
"""Slash names per language, "|"-separated (the English ids below always work)."""
ENGLISH_SLASH = {"invite": INVITE, "members": MEMBERS, "leave": LEAVE}
_CODE = re.compile(r"^(?:/\w+\s+)?([a-z0-9]{4})[\s-]?([a-z0-9]{4})$", re.IGNORECASE)
_SLASH = re.compile(r"^/([\w]+)(?:@\w+)?\s*$", re.UNICODE)
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*$", re.UNICODE)


def typed_code(text: str) -> str | None:
    """The one-time code a message is ("7KQ2-MXAB", "7kq2mxab", "/join 7KQ2MXAB"), upper
    case without the dash, or None. A code has a digit and a letter, so no word is one."""
    match = _CODE.match(text.strip())
    if match is None:
        return None
    code = (match.group(1) + match.group(2)).upper()
    if any(ch not in CODE_ALPHABET for ch in code):
        return None
    if not any(ch.isdigit() for ch in code) or not any(ch.isalpha() for ch in code):
        return None
    return code


def shown_code(code: str) -> str:
    """The code as the young person reads it out: 7KQ2-MXAB."""
    return f"{code[:4]}-{code[4:]}"


def join_link(ctx: FlowContext, code: str) -> str:
    """The web chat address that joins with this code (in the fragment: never sent to the
    server, never in its logs)."""
    web = ctx.settings.web
    base = web.public_url or f"http://{web.host}:{web.port}"
    return f"{base.rstrip('/')}/#join={code}"


def keeps_language(state: ConversationState, inbound: Inbound) -> bool:
    """A code or a first name says nothing of the writer's language ("GQY3-47E8" is no
    Somali, "Ola" no Polish): the conversation keeps the one it has."""
    if state.phase is Phase.TRUSTED_NAME:
        return True
    return state.phase is Phase.IDLE and typed_code(inbound.text) is not None


def _slash(text: str, ctx: FlowContext) -> str | None:
    match = _SLASH.match(text.strip())
    if match is None:
        return None
    name = match.group(1).casefold()
    if name in ENGLISH_SLASH:
        return ENGLISH_SLASH[name]
    for payload, key in SLASH_KEYS.items():
        for language in ctx.settings.languages.supported:
            names = ctx.t(key, language)
            if names != key and name in {n.strip().casefold() for n in names.split("|")}:
                return payload
    return None


def _asked(inbound: Inbound, ctx: FlowContext) -> str | None:
    """The trusted-person action this message asks for: a button or a slash command."""
    if inbound.button is not None and inbound.button.startswith("trusted:"):
        return inbound.button
    return _slash(inbound.text, ctx) if inbound.text.strip().startswith("/") else None


def step(
    state: ConversationState, inbound: Inbound, understanding: Understanding, ctx: FlowContext
) -> StepResult | None:
    """Handle the message when it is about a trusted person; None when it is not."""
    if not ctx.settings.trusted.enabled:
        return None
    asked = _asked(inbound, ctx)
    if state.phase is Phase.TRUSTED_NAME:
        return _named(state, inbound, ctx)
    if state.phase is Phase.TRUSTED_RULES:
        return _ruled(state, inbound, asked, ctx)
    if state.phase is Phase.TRUSTED:
        return _taking_part(state, inbound, asked, ctx)
    if asked == INVITE:
        return invite(state, ctx)
    if asked == MEMBERS:
        return members(state, ctx)
    if asked is not None and asked.startswith(REMOVE):
        return remove(state, asked[len(REMOVE) :], ctx)
    if asked in (ACCEPT, DECLINE, LEAVE):  # an old button, nothing to do
        return StepResult(state, ())
    if state.phase is Phase.IDLE and inbound.button is None:
        code = typed_code(inbound.text)
        if code is not None and ctx.trusted.typed is not None:
            return _code_sent(state, ctx)
    if understanding.bring_someone and inbound.button is None and understanding.crisis is None:
        if state.phase is Phase.CASE_OPEN and _owns_open_case(state, ctx):
            relayed = case.relay(state, inbound, ctx)  # the los reads the question too
            return StepResult(
                relayed.state,
                (*relayed.replies, offer(ctx, state.language)),
                relayed.effects,
                relayed.topic,
                handover=True,
            )
        if state.phase is Phase.IDLE:
            return before_case(state, ctx)
    return None


def _owns_open_case(state: ConversationState, ctx: FlowContext) -> bool:
    return state.case_ref is not None and ctx.case_open and state.phase is Phase.CASE_OPEN


def offer(ctx: FlowContext, language: str) -> Outbound:
    """The question "do you want to invite someone?" with the two buttons."""
    return Outbound(ctx.t(N_("trusted.offer"), language), language, _owner_buttons(ctx, language))


def _owner_buttons(ctx: FlowContext, language: str) -> tuple[Button, ...]:
    return (
        Button(ctx.t(N_("trusted.button.invite"), language), INVITE),
        Button(ctx.t(N_("trusted.button.members"), language), MEMBERS),
    )


def before_case(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Asked before a person has the conversation: it works once the los has it; offer one."""
    lang = state.language
    told = Outbound(
        ctx.t(N_("trusted.before_case"), lang), lang, (answers.person_button(ctx, lang),)
    )
    return StepResult(state, (told,))


def invite(state: ConversationState, ctx: FlowContext) -> StepResult:
    """A fresh one-time code and link, for the young person to share themselves."""
    lang = state.language
    facts = ctx.trusted
    if not _owns_open_case(state, ctx) or not facts.new_code or state.case_ref is None:
        return before_case(state, ctx)
    expires = facts.expires_at or ctx.now + timedelta(minutes=ctx.settings.trusted.code_minutes)
    text = ctx.t(
        N_("trusted.code"),
        lang,
        code=shown_code(facts.new_code),
        link=join_link(ctx, facts.new_code),
        until=_clock(expires, ctx),
        minutes=ctx.settings.trusted.code_minutes,
    )
    effect = CreateInvite(state.case_ref, facts.new_code_hash, expires)
    return StepResult(state, (Outbound(text, lang),), (effect,), handover=True)


def _clock(moment: datetime, ctx: FlowContext) -> str:
    """HH:MM in the municipality's time (Oslo)."""
    return moment.astimezone(ZoneInfo(ctx.settings.municipality.timezone)).strftime("%H:%M")


def members(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Who is in the young person's conversation, each with a button to take them out."""
    lang = state.language
    if not _owns_open_case(state, ctx):
        return before_case(state, ctx)
    people = ctx.trusted.members
    if not people:
        text = ctx.t(N_("trusted.members.none"), lang)
        button = Button(ctx.t(N_("trusted.button.invite"), lang), INVITE)
        return StepResult(state, (Outbound(text, lang, (button,)),), handover=True)
    names = ", ".join(m.name for m in people)
    buttons = tuple(
        Button(ctx.t(N_("trusted.button.remove"), lang, name=m.name), f"{REMOVE}{m.id}")
        for m in people
    )
    text = ctx.t(N_("trusted.members"), lang, names=names)
    return StepResult(state, (Outbound(text, lang, buttons),), handover=True)


def remove(state: ConversationState, which: str, ctx: FlowContext) -> StepResult:
    """Take one person out of the young person's conversation."""
    lang = state.language
    found = next((m for m in ctx.trusted.members if str(m.id) == which), None)
    if found is None or state.case_ref is None or not _owns_open_case(state, ctx):
        return StepResult(state, (Outbound(ctx.t(N_("trusted.remove.gone"), lang), lang),))
    text = ctx.t(N_("trusted.removed"), lang, name=found.name)
    effect = RemoveParticipant(found.id, state.case_ref)
    return StepResult(state, (Outbound(text, lang),), (effect,), handover=True)


def _tries(state: ConversationState, ctx: FlowContext) -> tuple[int, datetime]:
    raw = state.extra.get(TRIES_KEY, "")
    count, _, first = raw.partition(":")
    try:
        since = datetime.fromisoformat(first)
    except ValueError:  # no tries yet (or an unreadable value): a fresh window
        return 0, ctx.now
    window = timedelta(minutes=ctx.settings.trusted.tries_window_minutes)
    if count.isdigit() and ctx.now - since < window:
        return int(count), since
    return 0, ctx.now


CODE_KEYS = {
    CodeStatus.EXPIRED: N_("trusted.code.expired"),
    CodeStatus.USED: N_("trusted.code.used"),
    CodeStatus.UNKNOWN: N_("trusted.code.unknown"),
}


def _code_sent(state: ConversationState, ctx: FlowContext) -> StepResult:
    """Somebody sent a code: valid, the first name is asked; otherwise why not (and after
    too many tries, a wait: guessing is slowed down)."""
    lang = state.language
    facts = ctx.trusted
    count, since = _tries(state, ctx)
    if count >= ctx.settings.trusted.max_tries:
        return StepResult(state, (Outbound(ctx.t(N_("trusted.code.wait"), lang), lang),))
    if facts.typed is CodeStatus.VALID and facts.invite is not None:
        joining = state.forgetting(TRIES_KEY).noting(INVITE_KEY, str(facts.invite))
        text = ctx.t(N_("trusted.welcome"), lang, kommune=ctx.settings.municipality.name)
        return StepResult(
            joining.evolve(phase=Phase.TRUSTED_NAME),
            (Outbound(text, lang),),
            (ClaimInvite(facts.invite),),
        )
    tried = state.noting(TRIES_KEY, f"{count + 1}:{since.isoformat()}")
    key = CODE_KEYS[facts.typed or CodeStatus.UNKNOWN]
    return StepResult(tried, (Outbound(ctx.t(key, lang), lang),))


def first_name(text: str) -> str | None:
    """The first name in what was written ("Ola", "ola nordmann" -> "Ola"); None when it is
    no name (digits, an address, a sentence)."""
    words = text.strip().split()
    if not words or len(words) > 3:
        return None
    word = words[0].strip(".,!")
    if not _NAME.match(word) or len(word) > MAX_NAME:
        return None
    return word[:1].upper() + word[1:]


def _named(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    lang = state.language
    name = first_name(inbound.text) if inbound.button is None else None
    if name is None:
        return StepResult(state, (Outbound(ctx.t(N_("trusted.name.again"), lang), lang),))
    asking = state.noting(NAME_KEY, name).evolve(phase=Phase.TRUSTED_RULES)
    return StepResult(asking, (rules(ctx, lang, name),))


def rules_text(ctx: FlowContext, language: str, name: str) -> str:
    """What an invited person accepts: what they will see, that the young person decides."""
    return ctx.t(N_("trusted.rules"), language, name=name)


def rules(ctx: FlowContext, language: str, name: str) -> Outbound:
    """The rules with "yes, I'll join" and "no thanks"."""
    buttons = (
        Button(ctx.t(N_("trusted.button.accept"), language), ACCEPT),
        Button(ctx.t(N_("trusted.button.decline"), language), DECLINE),
    )
    return Outbound(rules_text(ctx, language, name), language, buttons)


def _cleared(state: ConversationState) -> ConversationState:
    return state.forgetting(INVITE_KEY).forgetting(NAME_KEY).evolve(phase=Phase.IDLE)


def _ruled(
    state: ConversationState, inbound: Inbound, asked: str | None, ctx: FlowContext
) -> StepResult:
    lang = state.language
    name = state.extra.get(NAME_KEY, "")
    invite_id = state.extra.get(INVITE_KEY, "")
    if asked == DECLINE:
        return StepResult(_cleared(state), (Outbound(ctx.t(N_("trusted.declined"), lang), lang),))
    if asked != ACCEPT:
        return StepResult(state, (rules(ctx, lang, name),))
    if not ctx.trusted.claimed_open or not invite_id.isdigit() or not name:
        return StepResult(_cleared(state), (Outbound(ctx.t(N_("trusted.gone"), lang), lang),))
    effect = JoinCase(int(invite_id), name, RULES_VERSION, rules_text(ctx, lang, name), lang)
    inside = _cleared(state).evolve(phase=Phase.TRUSTED)
    leave = Button(ctx.t(N_("trusted.button.leave"), lang), LEAVE)
    text = ctx.t(N_("trusted.joined.you"), lang, name=name)
    return StepResult(inside, (Outbound(text, lang, (leave,)),), (effect,), handover=True)


def _taking_part(
    state: ConversationState, inbound: Inbound, asked: str | None, ctx: FlowContext
) -> StepResult:
    lang = state.language
    joined = ctx.trusted.joined
    if joined is None:  # removed, left, the case closed or deleted
        text = ctx.t(N_("trusted.ended"), lang)
        return StepResult(state.evolve(phase=Phase.IDLE), (Outbound(text, lang),))
    if asked == LEAVE:
        return leave(state, ctx)
    if asked is not None or not inbound.text.strip():
        return StepResult(state, ())
    return StepResult(state, (), (ParticipantSaid(joined.participant, joined.reference),))


def leave(state: ConversationState, ctx: FlowContext) -> StepResult:
    """The invited person leaves (the "leave" button, /leave, or "stop")."""
    lang = state.language
    joined = ctx.trusted.joined
    told = Outbound(ctx.t(N_("trusted.left.you"), lang), lang)
    ended = _cleared(state)
    if joined is None:
        return StepResult(ended, (told,))
    return StepResult(ended, (told,), (RemoveParticipant(joined.participant),))


def stop(state: ConversationState, ctx: FlowContext) -> StepResult:
    """The word "stop" while joining ends the joining; while taking part, it is leaving."""
    if state.phase is Phase.TRUSTED:
        return leave(state, ctx)
    lang = state.language
    return StepResult(_cleared(state), (Outbound(ctx.t(N_("trusted.declined"), lang), lang),))


def with_crisis(
    state: ConversationState, understanding: Understanding, ctx: FlowContext
) -> StepResult | None:
    """An invited person's message tells of danger: the crisis answer for them, and the
    young person's case urgent with their words in it (the los there reads it at once).
    None when they are not (any more) taking part: the front door's usual crisis case."""
    signal = understanding.crisis
    joined = ctx.trusted.joined
    if signal is None or joined is None or state.phase is not Phase.TRUSTED:
        return None
    lang = state.language
    answer = answers.crisis_answer(ctx, lang, signal.category, None)
    told = Outbound(ctx.t(N_("trusted.crisis_note"), lang), lang)
    said = ParticipantSaid(joined.participant, joined.reference, signal.category)
    return StepResult(
        state, (answer, told), (said,), topic=signal.topic, crisis=True, handover=True
    )
