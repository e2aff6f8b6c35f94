"""A call at a time that suits: the intake's "call me" offers the next free callback slots
(in the citizen's language and the municipality's time), "any time" and "another time"; a
typed answer that means one of them picks it. Also the reminder, a moved and a cancelled
call, as events the store records for the conversation.

The free slots are the router's to find (``FlowContext.callback_slots``); booking is the
store's, atomically, when the case is sent (``OpenCase``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from flows.choices import fold, number_word
from flows.result import StepResult
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import N_, Button, FlowContext, Inbound, Outbound
from flows.when import BABEL_LOCALE, format_moment

SLOT_PREFIX = "slot:"
ANY = "slot:any"
"""Any time in the opening hours."""
OTHER = "slot:other"
"""Another time, in the citizen's own words (as before there were slots)."""
WHEN_SLOT, WHEN_ANY, WHEN_OTHER = "slot", "any", "other"
EVENT = "event:callback:"
"""An event (not a citizen message): something happened to a booked call."""
REMINDER, MOVED, CANCELLED = "reminder", "moved", "cancelled"
EVENT_KEYS = {
    REMINDER: N_("callback.reminder"),
    MOVED: N_("callback.moved"),
    CANCELLED: N_("callback.cancelled"),
}
_STAMP = "%Y%m%dT%H%MZ"
_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:.]([0-5]\d)(?!\d)")
_AT_HOUR = re.compile(r"(?:^|\s)(?:kl|klokka|klokken|at|godz|о)\.?\s*([01]?\d|2[0-3])(?![\d:.])")
_MAX_WORDS = 6
"""A longer message is the citizen's own words, not a pick."""
_RELATIVE = frozenset(
    {"etter", "after", "for", "before", "fra", "from", "mellom", "between", "til", "until",
     "po", "przed", "od", "pislia", "після", "до", "بعد", "قبل", "kadib", "dib", "hor"}
)  # fmt: skip
"""Words that make a time a wish ("etter kl 15"), not a pick of the slot at that time."""


def stamp(moment: datetime) -> str:
    """A slot's start as a payload part (UTC, to the minute): 20261126T0930Z."""
    return moment.astimezone(UTC).strftime(_STAMP)


def parse_stamp(value: str) -> datetime | None:
    """The moment of a payload part, or None when it is not one."""
    try:
        return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def slot_label(ctx: FlowContext, moment: datetime, language: str) -> str:
    """The slot as the language writes a day and a time ("torsdag 26. november 10:30"), in
    the municipality's time zone."""
    return format_moment(moment, language, ctx.settings.municipality.timezone)


def _zone(ctx: FlowContext) -> ZoneInfo:
    return ZoneInfo(ctx.settings.municipality.timezone)


def offer(state: ConversationState, ctx: FlowContext, note: str | None = None) -> StepResult:
    """When should the los call? The next free slots, "any time", "another time" (and the way
    out). ``note`` goes first (a slot was taken meanwhile)."""
    lang = state.language
    buttons = [
        Button(slot_label(ctx, moment, lang), SLOT_PREFIX + stamp(moment))
        for moment in shown(ctx)
    ]
    buttons.append(Button(ctx.t(N_("callback.button.any"), lang), ANY))
    buttons.append(Button(ctx.t(N_("callback.button.other"), lang), OTHER))
    buttons.append(Button(ctx.t(N_("intake.button.cancel"), lang), "intake:cancel"))
    key = N_("callback.ask_time") if ctx.callback_slots else N_("callback.ask_time_none")
    replies = [Outbound(ctx.t(key, lang), lang, tuple(buttons))]
    if note is not None:
        replies.insert(0, Outbound(note, lang))
    return StepResult(state.evolve(phase=Phase.INTAKE_CALLBACK_TIME), tuple(replies))


def shown(ctx: FlowContext) -> tuple[datetime, ...]:
    """The free slots offered as choices: the next few."""
    return ctx.callback_slots[: ctx.settings.callbacks.offer]


def offers_slots(state: ConversationState, ctx: FlowContext) -> bool:
    """Whether "call me" goes to the slots (free ones exist; never anonymously)."""
    return bool(ctx.callback_slots) and not state.anonymous


def typed_slots(
    text: str, slots: Sequence[datetime], offered: int, language: str, zone: ZoneInfo
) -> tuple[datetime, ...]:
    """The free slots a typed answer points to: by its place among the ``offered`` first ones
    ("the first one", "nummer 2"), or by its weekday ("torsdag"), its time ("kl 10",
    "10:30") or both, among all ``slots``. Empty when it points to none."""
    folded = fold(text)
    words = folded.split()
    if not words or len(words) > _MAX_WORDS or not slots or _RELATIVE & set(words):
        return ()
    local = [s.astimezone(zone) for s in slots]
    picked = list(range(len(slots)))
    clock = _CLOCK.search(text)
    hour_only = None if clock else _AT_HOUR.search(" " + text.casefold())
    if clock is not None:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        picked = [i for i in picked if (local[i].hour, local[i].minute) == (hour, minute)]
    elif hour_only is not None:
        hour = int(hour_only.group(1))
        picked = [i for i in picked if local[i].hour == hour]
    days = _weekdays(words, language)
    if days:
        picked = [i for i in picked if local[i].weekday() in days]
    if clock is None and hour_only is None and not days:
        places = {n for n in map(number_word, words) if n is not None}
        places |= {int(w) for w in words if w.isdigit() and len(w) == 1}
        if len(places) != 1:
            return ()
        place = places.pop()
        return (slots[place - 1],) if 0 < place <= min(offered, len(slots)) else ()
    return tuple(slots[i] for i in picked)


def _weekdays(words: Sequence[str], language: str) -> set[int]:
    """The weekdays (0 = Monday) the words name, in the citizen's language or Norwegian."""
    found: set[int] = set()
    for locale in {BABEL_LOCALE.get(language, "en_GB"), "nb_NO", "en_GB"}:
        names = get_day_names("wide", locale=locale)
        for day, name in names.items():
            if fold(name) in words:
                found.add(int(day))
    return found


def answer_time(
    state: ConversationState, inbound: Inbound, ctx: FlowContext
) -> tuple[ConversationState, StepResult | None]:
    """The citizen's answer to "when should the los call?": the draft with the choice (and
    None: the intake goes on to the number), or the step to show (asked again, narrowed to
    the slots meant, or the words taken as their own time)."""
    draft = state.intake or IntakeDraft()
    button = inbound.button or ""
    text = inbound.text.strip()
    if button == ANY:
        return _chosen(state, draft, WHEN_ANY, None), None
    if button == OTHER:
        return _chosen(state, draft, WHEN_OTHER, None), None
    if button.startswith(SLOT_PREFIX):
        moment = parse_stamp(button[len(SLOT_PREFIX) :])
        if moment is not None and moment in ctx.callback_slots:
            return _chosen(state, draft, WHEN_SLOT, moment), None
        note = ctx.t(N_("callback.taken"), state.language)
        return state, offer(state, ctx, note)
    if not text:
        return state, offer(state, ctx)
    offered = ctx.settings.callbacks.offer
    meant = typed_slots(text, ctx.callback_slots, offered, state.language, _zone(ctx))
    if len(meant) == 1:
        return _chosen(state, draft, WHEN_SLOT, meant[0]), None
    if meant:  # "torsdag" with two on Thursday: which one?
        narrowed = offer(state, _with_slots(ctx, meant))
        return state, narrowed
    # Their own words: a time that suits (and perhaps the number), as before.
    words = f"{draft.callback}, {text}" if draft.callback else text
    told = replace(draft, callback_when=WHEN_OTHER, callback_slot=None, callback=words)
    return state.evolve(intake=told), None


def _with_slots(ctx: FlowContext, slots: Sequence[datetime]) -> FlowContext:
    return replace(ctx, callback_slots=tuple(slots))


def _chosen(
    state: ConversationState, draft: IntakeDraft, when: str, moment: datetime | None
) -> ConversationState:
    from dataclasses import replace

    slot = stamp(moment) if moment is not None else None
    return state.evolve(intake=replace(draft, callback_when=when, callback_slot=slot))


def chosen_moment(draft: IntakeDraft) -> datetime | None:
    """The booked slot's start the draft holds, if any."""
    if draft.callback_when != WHEN_SLOT or not draft.callback_slot:
        return None
    return parse_stamp(draft.callback_slot)


def still_free(draft: IntakeDraft, ctx: FlowContext) -> bool:
    """Whether the slot chosen (if any) is still free now."""
    moment = chosen_moment(draft)
    return moment is None or moment in ctx.callback_slots


def summary_line(ctx: FlowContext, draft: IntakeDraft, language: str) -> str:
    """How the call is wanted, for the summary: the time and the number."""
    number = draft.callback or ""
    moment = chosen_moment(draft)
    if moment is not None:
        when = slot_label(ctx, moment, language)
        return ctx.t(N_("callback.summary.slot"), language, when=when, number=number)
    if draft.callback_when == WHEN_ANY:
        return ctx.t(N_("callback.summary.any"), language, number=number)
    return ctx.t(N_("intake.contact.call"), language) + f": {number}"


def confirmation(ctx: FlowContext, draft: IntakeDraft, language: str) -> str | None:
    """Said with the case reference: when the los will call, and the reminder."""
    moment = chosen_moment(draft)
    if moment is None:
        return None
    when = slot_label(ctx, moment, language)
    text = ctx.t(N_("callback.confirmed"), language, when=when)
    minutes = ctx.settings.callbacks.reminder_minutes
    if minutes:
        text += " " + ctx.t(N_("callback.reminder_promise"), language, minutes=minutes)
    return text


def event_for(kind: str, reference: str) -> str:
    """The event recorded for a booked call (its text is the slot's stamp)."""
    return f"{EVENT}{kind}:{reference}"


def is_event(button: str | None) -> bool:
    """Whether an event is about a booked call."""
    return button is not None and button.startswith(EVENT)


def on_event(state: ConversationState, inbound: Inbound, ctx: FlowContext) -> StepResult:
    """A reminder, a moved or a cancelled call: told in the conversation's language while
    the conversation is with that case and the case is open; otherwise nothing is said."""
    kind, _, reference = (inbound.button or "")[len(EVENT) :].partition(":")
    moment = parse_stamp(inbound.text.strip())
    key = EVENT_KEYS.get(kind)
    if key is None or moment is None or state.case_ref != reference or not ctx.case_open:
        return StepResult(state, ())
    lang = state.language
    text = ctx.t(key, lang, when=slot_label(ctx, moment, lang), reference=reference)
    return StepResult(state, (Outbound(text, lang),))
