"""The router: record the message, then handle the conversation's messages in order.

The router is the one writer of conversation state. A message is committed before anything
else; then the conversation's unhandled messages (and events, such as a los closing the case)
are handled one at a time, oldest first: understand, step the flow, save state, effects and
replies in one transaction that holds only if the conversation did not move on meanwhile.
Messages to one conversation wait for each other (in this process a lock, across processes
the version check); different conversations never do. A message whose handling keeps failing
gets a safe reply with the crisis lines and is set aside, so nothing after it waits on it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from bot.areas import DEFAULT_AREA
from bot.attachments import Upload
from bot.callback_times import offerable
from bot.channels.limits import PUSH_CHANNELS, SHORT_TEXT_CHANNELS
from bot.clock import Clock
from bot.content import LiveContent
from bot.i18n import Catalogs
from bot.identity import address_hash, message_key
from bot.locks import KeyedLocks
from bot.metrics import Metrics
from bot.notifications import AreaNotices, Notices
from bot.schedule import Schedule
from bot.settings import Settings
from bot.staff import Staffing
from bot.store import participants
from bot.store.accounts import StaffAccounts
from bot.store.callbacks import Callbacks, SlotTaken
from bot.store.db import Transaction
from bot.store.effects import EffectRunner
from bot.store.enums import OPEN_STATUSES, CaseStatus, Direction, DocumentType
from bot.store.repo import PendingMessage, Store, StoredReply, aware
from bot.text_input import MAX_UNDERSTOOD_CHARS, clean
from bot.trusted_codes import code_hash, new_code
from flows import answers, choices, front_door, trusted
from flows.effects import DeleteData, WithdrawConsent
from flows.state import ConversationState, Phase
from flows.trusted_facts import TrustedFacts
from flows.types import FlowContext, Inbound, Outbound
from nlu.service import Understander, until_sent
from nlu.understanding import Understanding

log = logging.getLogger(__name__)
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_ATTEMPTS = 3
"""How often a message's handling is tried before it gets a safe reply and is set aside."""
CALLBACK_PHASES = frozenset(
    {Phase.INTAKE_CONTACT, Phase.INTAKE_CALLBACK_TIME, Phase.INTAKE_CONFIRM}
)
"""Where the intake may offer (or check) the free callback slots: only there are they read."""
BOOKING_TRIES = 3
"""How often a step is computed again when the slot it booked was taken meanwhile."""
LIVE_WINDOW = timedelta(seconds=30)
"""A message recorded this recently by another worker has a caller waiting for its replies;
older ones (left by a crash) get theirs through the outbox."""


@dataclass(frozen=True)
class Lookahead:
    """The conversation's next unhandled message as a transaction that just committed saw
    it (None: none was waiting), so the drain need not ask the store again."""

    pending: PendingMessage | None


@dataclass(frozen=True)
class Handled:
    """What came of one inbound message, for the channel to send and report."""

    replies: tuple[Outbound, ...]
    language: str
    topic: str | None
    crisis: bool
    handover: bool
    duplicate: bool = False
    """A repeated platform message id: ``replies`` are the ones recorded the first time. A
    channel that delivers by its own request (Telegram, SMS) must not send them again; one
    whose answer is the delivery (the web chat's retried POST) returns them."""
    queued: bool = False
    """The replies wait in the outbox (always so on a channel that pushes): the channel's
    delivery sends them from there and acknowledges each. False when even recording failed
    (the safe reply is fresh) or where the response is the delivery."""


def _discard(future: asyncio.Future[FlowContext]) -> None:
    """A context no step will use: cancelled, or its failure taken (not logged as lost)."""
    if not future.cancel() and not future.cancelled():
        future.exception()


def new_reference() -> str:
    """A case reference a citizen can read aloud: K-7KQ2MX."""
    return "K-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def chosen_button(inbound: Inbound, state: ConversationState) -> Inbound:
    """A typed answer that names one of the choices offered last (its number, the number as
    a word, its label, yes or no) is that choice, on every channel."""
    if inbound.button is not None:
        return inbound
    payload = choices.chosen(
        inbound.text,
        state.offered,
        state.offered_labels,
        in_words=front_door.phase_takes_words(state),
    )
    return inbound if payload is None else replace(inbound, button=payload)


class Router:
    """Channel-neutral handling of one inbound message."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        understander: Understander,
        catalogs: Catalogs,
        secret: bytes,
        clock: Clock,
        metrics: Metrics | None = None,
        content: LiveContent | None = None,
    ) -> None:
        self.settings = settings
        self.content = content or LiveContent(settings, catalogs, None)
        """The service content in force: staff's changes over the catalogs and config.yml."""
        self.metrics = metrics if metrics is not None else Metrics()
        """Counts and latencies (the App's registry); the channels' deliveries count here."""
        self.store = store
        self.understander = understander
        self.catalogs = catalogs
        self.secret = secret
        self.clock = clock
        self.calls = Callbacks(store.sessions, clock)
        self.areas = self.content.areas
        """Every area's settings, and which entry leads where (one without ``areas:``)."""
        self.schedule = Schedule(
            settings, lambda: self.content.latest().settings.opening_hours.weekly
        )
        accounts = StaffAccounts(store.sessions)
        self.staffing = Staffing(settings, self.schedule, accounts)
        self.notices = Notices(settings, self.staffing, self.schedule)
        self.schedules = {DEFAULT_AREA: self.schedule}
        self.area_staffing = {DEFAULT_AREA: self.staffing}
        if self.areas.several:
            self._staff_areas(accounts)
        self.locks: KeyedLocks[int] = KeyedLocks()  # one per conversation

    def _staff_areas(self, accounts: StaffAccounts) -> None:
        """Each area's schedule (its opening hours in force), staffing (its roster) and
        notices (to its own staff); a case's notices go to its area's."""
        by_area: dict[str, Notices] = {}
        for area, settings in self.areas.settings.items():
            schedule = Schedule(
                settings,
                lambda area=area: self.content.latest(area).settings.opening_hours.weekly,  # type: ignore[misc]
            )
            staffing = Staffing(settings, schedule, accounts, area=area)
            self.schedules[area], self.area_staffing[area] = schedule, staffing
            by_area[area] = Notices(settings, staffing, schedule)
        self.notices = AreaNotices(by_area, DEFAULT_AREA)

    def address(self, channel: str, user: str) -> str:
        """The keyed hash under which this channel user's conversation is stored."""
        return address_hash(self.secret, channel, user)

    def context(
        self,
        state: ConversationState,
        channel: str = "",
        area: str = DEFAULT_AREA,
        *,
        trusted_for: tuple[int, str] | None = None,
    ) -> FlowContext:
        """The read-only context a flow step sees: the area's settings and content, the
        time, whether a los of the area is at work now (its opening hours and someone on
        duty), and whether the state's case is still open. With ``trusted_for`` (the
        conversation and the citizen's text) the trusted-person facts too, read in the same
        session."""
        now = self.clock()
        area = self.areas.known(area)
        content = self.content.current(area)  # the revision, at most every couple of seconds
        schedule, staffing = self.schedules[area], self.area_staffing[area]
        lookup = None
        if trusted_for is not None:
            lookup = self._trusted_lookup(state, *trusted_for, now)
        status, switches, found = self.store.step_facts(state.case_ref, staffing.day(now), lookup)
        staffed = bool(staffing.on_duty_given(switches, now))
        is_open = schedule.is_open(now) and staffed
        next_opening = None
        if not is_open:
            hours = schedule.hours_on(schedule.local(now).date())
            after = hours[1] if hours is not None and hours[0] <= now < hours[1] else now
            next_opening = schedule.next_opening(after)
        ctx = FlowContext(
            settings=content.settings,
            t=content.t,
            now=now,
            office_open=is_open,
            next_opening=next_opening,
            new_case_reference=new_reference(),
            note_token=secrets.token_urlsafe(12),
            case_claimed=status is CaseStatus.CLAIMED,
            case_open=status in OPEN_STATUSES,
            short_texts=channel in SHORT_TEXT_CHANNELS,
            callback_slots=self.callback_slots(state, now, schedule, area),
            commands=content.commands,
        )
        return ctx if found is None else replace(ctx, trusted=self._with_new_code(found, now))

    def callback_slots(
        self,
        state: ConversationState,
        now: datetime,
        schedule: Schedule | None = None,
        area: str = DEFAULT_AREA,
    ) -> tuple[datetime, ...]:
        """The area's free callback slots that may be offered now (only at the intake's
        contact steps, never to an anonymous conversation), within ``schedule``'s opening
        hours."""
        if state.phase not in CALLBACK_PHASES or state.anonymous:
            return ()
        rules = self.settings.callbacks
        until = now + timedelta(days=rules.days_ahead, hours=1)
        starts = self.calls.free_after(now, until, area)
        return offerable(schedule or self.schedule, rules, now, starts)

    async def handle(
        self, inbound: Inbound, external_id: str | None = None, upload: Upload | None = None
    ) -> Handled:
        """Handle one message; the inbound is on disk before anything else happens to it.
        Never raises: if even recording fails, the citizen gets the safe reply.

        ``upload`` is a file that came with the message (checked by ``bot.attachments``):
        the flow is told only its checked fact, and its bytes are kept only if the flow
        asks to (the citizen's open case with consent). Its bytes are not recorded before:
        a message recovered after a crash has lost its file and is answered as media.

        On a channel that pushes (``PUSH_CHANNELS``) the replies are put in the outbox in the
        step's transaction, to be sent and acknowledged from there. Elsewhere the answer is
        the delivery (the web chat's response): a repeated message id returns the recorded
        replies and marks any copy of them waiting in the outbox (an answer recovered after
        a crash) delivered."""
        self.metrics.inbound(inbound.channel)
        try:
            return await self._handle(inbound, external_id, upload)
        except Exception as error:  # the last line of defence: say so, with the crisis lines
            log.error("handling failed before recording: %s", type(error).__name__)
            language = self.settings.languages.default
            return Handled(self._safe_replies(language), language, None, False, False)

    async def _handle(
        self, inbound: Inbound, external_id: str | None, upload: Upload | None
    ) -> Handled:
        default = self.settings.languages.default
        cleaned = clean(inbound.text)
        inbound = replace(
            inbound,
            text=cleaned.text,
            truncated=cleaned.truncated,
            unreadable=cleaned.unreadable,
            attachment=upload.fact if upload is not None else inbound.attachment,
            media="document" if upload is not None else inbound.media,
        )
        address = self.address(inbound.channel, inbound.user)
        pushed = inbound.channel in PUSH_CHANNELS
        # Rasa reads the text while it is recorded: nothing leaves for the citizen, and no
        # effect happens, before the recording has committed (the step waits for both). The
        # recording starts once the request has left.
        await until_sent(self.understander.prefetch(cleaned.text))
        recorded = await self.store.run(
            self.store.record_inbound,
            inbound.channel,
            address,
            cleaned.text,
            message_key(self.secret, external_id, cleaned.text, inbound.button),
            default,
            button=inbound.button,
            media=inbound.media,
            hint=inbound.language_hint,
            area=self.areas.known(inbound.area or None),
        )
        if recorded.duplicate:
            log.info("duplicate inbound conversation=%s", recorded.conversation_id)
            stored = await self.store.run(self.store.handled, recorded.message_id)
            if stored.answered:
                if not pushed:  # the answer to the retry is the delivery
                    await self.store.run(self.store.acknowledge_replies_to, recorded.message_id)
                state = ConversationState.from_json(recorded.state_json, default)
                return Handled(
                    stored.replies,
                    state.language,
                    None,
                    False,
                    False,
                    duplicate=True,
                    queued=pushed,
                )
            # Recorded, never answered: the process that took it died (another replica, or
            # this one before a restart). The retry waits for the answer here, as the first
            # request did; handled by another worker meanwhile, it gets what that recorded.
        documents: dict[int, tuple[DocumentType, bytes]] = {}
        if upload is not None and upload.storable and upload.media_type is not None:
            documents[recorded.message_id] = (upload.media_type, upload.content)
        # Recording's own look at what waits first is not trusted: on PostgreSQL a message
        # with a lower id, recorded at the same moment by another request or replica, may
        # commit after that look (the kill test's burst saw one handled out of order). The
        # drain asks again under the conversation's lock.
        outcomes = await self.drain(
            recorded.conversation_id, {recorded.message_id: inbound}, documents=documents
        )
        own = outcomes.get(recorded.message_id)
        if own is not None:
            return own
        stored = await self.store.run(self.store.handled, recorded.message_id)  # by another
        if not pushed:  # the other worker may have queued them: the response delivers them
            await self.store.run(self.store.acknowledge_replies_to, recorded.message_id)
        return Handled(
            stored.replies,
            stored.language or default,
            stored.topic,
            stored.crisis,
            False,
            queued=pushed,
        )

    async def drain(
        self,
        conversation_id: int,
        own: dict[int, Inbound],
        *,
        recovering: bool = False,
        documents: dict[int, tuple[DocumentType, bytes]] | None = None,
    ) -> dict[int, Handled]:
        """Handle the conversation's unhandled messages in order; returns what came of each
        handled here. Replies go to the outbox on a channel that pushes, and elsewhere when
        nobody here waits for them.

        The first message is read under the lock; each saved step then says what its
        transaction saw next, and the store is asked again only when that is unknown. A look
        that is stale by now (another worker moved the conversation on) costs only a step the
        version check refuses, and the message is read again."""
        outcomes: dict[int, Handled] = {}
        ahead: Lookahead | None = None
        async with self.locks.hold(conversation_id):
            for _ in range(1000):  # a bound, not an expectation
                if ahead is not None:
                    pending = ahead.pending
                else:
                    pending = await self.store.run(self.store.next_unhandled, conversation_id)
                if pending is None:
                    break
                inbound = own.get(pending.id) or self._stored_inbound(pending)
                to_outbox = pending.channel in PUSH_CHANNELS or (
                    pending.id not in own
                    and (
                        recovering
                        or pending.direction is Direction.EVENT
                        or self.clock() - aware(pending.created_at) > LIVE_WINDOW
                    )
                )
                document = (documents or {}).get(pending.id)
                handled, ahead = await self._attempt(pending, inbound, to_outbox, document)
                if handled is not None:
                    outcomes[pending.id] = handled
        return outcomes

    def _stored_inbound(self, pending: PendingMessage) -> Inbound:
        """The message as the channel gave it, rebuilt from what was recorded."""
        return Inbound(
            pending.channel,
            "",
            pending.text,
            pending.hint,
            pending.button,
            truncated=len(pending.text) > MAX_UNDERSTOOD_CHARS,
            media=pending.media,
        )

    async def _attempt(
        self,
        pending: PendingMessage,
        inbound: Inbound,
        to_outbox: bool,
        document: tuple[DocumentType, bytes] | None = None,
    ) -> tuple[Handled | None, Lookahead | None]:
        """One try at one message, and what the step saw next (None: unknown, read again).
        No Handled when another worker moved the conversation on (the caller reads the next
        message again) or when it failed and will be tried again."""
        try:
            return await self._step(pending, inbound, to_outbox, document)
        except Exception as error:  # poison must not stop the conversation or the service
            kind = type(error).__name__
            log.warning("handling failed conversation=%s error=%s", pending.conversation_id, kind)
            if pending.attempts + 1 < MAX_ATTEMPTS:
                await self.store.run(self.store.record_attempt, pending.id, kind)
                return None, None
            state = ConversationState.from_json(pending.state_json, self.settings.languages.default)
            replies = self._safe_replies(state.language)
            stored = [StoredReply.of(r) for r in replies]
            await self.store.run(self.store.give_up, pending, kind, stored, to_outbox)
            return Handled(replies, state.language, None, False, False, queued=to_outbox), None

    def _safe_replies(self, language: str) -> tuple[Outbound, ...]:
        ctx = FlowContext(settings=self.settings, t=self.catalogs, now=self.clock())
        return (answers.handling_failed(ctx, language),)

    async def _step(
        self,
        pending: PendingMessage,
        inbound: Inbound,
        to_outbox: bool,
        document: tuple[DocumentType, bytes] | None = None,
    ) -> tuple[Handled | None, Lookahead | None]:
        default = self.settings.languages.default
        state = ConversationState.from_json(pending.state_json, default)
        inbound = chosen_button(inbound, state)
        if front_door.pressed_again(state, inbound):  # a double tap: nothing happens twice
            kept = await self.store.run(
                self.store.save_step,
                pending,
                state_json=state.to_json(),
                language=state.language,
                intent=None,
                topic=None,
                crisis=False,
                replies=[],
                to_outbox=to_outbox,
            )
            if kept is None:
                return None, None
            return Handled((), state.language, None, False, False), Lookahead(kept.next)
        previous = state.language if state.turns > 0 else None
        started = time.perf_counter()
        citizen = pending.direction is not Direction.EVENT  # an event's text is staff's
        # The step's context is read on the store's thread while the message is understood.
        context = asyncio.ensure_future(self._context_for(pending, state, inbound))
        try:
            understanding = await self.understander.understand(  # the whole text: crisis check
                inbound.text if citizen else "", previous, inbound.language_hint
            )
        except BaseException:
            _discard(context)
            raise
        if citizen:  # an event's marker is no citizen's message
            self.metrics.understood(time.perf_counter() - started, understanding.source)
        for _ in range(BOOKING_TRIES):  # a slot booked meanwhile: asked again with the rest
            try:
                ctx = await context
                return await self._save(
                    pending, state, inbound, understanding, to_outbox, document, ctx
                )
            except SlotTaken:
                log.info("callback slot taken meanwhile conversation=%s", pending.conversation_id)
                context = asyncio.ensure_future(self._context_for(pending, state, inbound))
        _discard(context)
        raise SlotTaken("no free slot after retries")

    async def _context_for(
        self, pending: PendingMessage, state: ConversationState, inbound: Inbound
    ) -> FlowContext:
        """A fresh context for the step on ``pending`` (one trip to the store's thread)."""
        return await self.store.run(
            self._step_context,
            state,
            pending.channel,
            pending.conversation_id,
            inbound.text,
            pending.direction is not Direction.EVENT,
            pending.area,
        )

    async def _save(
        self,
        pending: PendingMessage,
        state: ConversationState,
        inbound: Inbound,
        understanding: Understanding,
        to_outbox: bool,
        document: tuple[DocumentType, bytes] | None,
        ctx: FlowContext,
    ) -> tuple[Handled | None, Lookahead | None]:
        """Step the flow in the fresh context ``ctx`` and save the step, its effects and
        replies; with what the saving transaction saw next."""
        result = front_door.step(state, inbound, understanding, ctx)
        runner = EffectRunner(
            pending.id,
            ctx.now,
            self.catalogs,
            self.area_staffing.get(pending.area, self.staffing),
            self.notices,
            result.effects,
            document,
        )
        replies = result.replies
        flag = understanding.crisis if result.crisis else None
        buttons = [b for r in replies for b in r.buttons]  # numbered in this order
        saved = await self.store.run(
            self.store.save_step,
            pending,
            state_json=result.state.evolve(
                offered=tuple(b.payload for b in buttons),
                offered_labels=tuple(b.label for b in buttons),
            ).to_json(),
            language=result.state.language,
            intent=understanding.intent,
            topic=result.topic,
            crisis=result.crisis,
            crisis_category=flag.category if flag else None,
            crisis_lexicon=flag.lexicon_version if flag else None,
            replies=[StoredReply.of(r) for r in replies],
            to_outbox=to_outbox,
            effects=runner,
        )
        if saved is None:
            return None, None
        if any(isinstance(e, DeleteData | WithdrawConsent) for e in result.effects):
            await self.store.run(self.store.scrub)  # no copy left in the -wal file
        log.info(
            "handled conversation=%s intent=%s source=%s topic=%s crisis=%s effects=%s",
            pending.conversation_id,
            understanding.intent,
            understanding.source,
            result.topic,
            result.crisis,
            ",".join(type(e).__name__ for e in result.effects),
        )
        return Handled(
            (*replies, *saved.extra),
            result.state.language,
            result.topic,
            result.crisis,
            result.handover,
            queued=to_outbox,
        ), Lookahead(saved.next)

    def _step_context(
        self,
        state: ConversationState,
        channel: str,
        conversation_id: int,
        text: str,
        citizen: bool,
        area: str = DEFAULT_AREA,
    ) -> FlowContext:
        """The step's context (in the conversation's area) and, for a citizen's message, the
        trusted-person facts: one trip to the store's thread, one session."""
        asks = citizen and self.settings.trusted.enabled
        return self.context(
            state, channel, area, trusted_for=(conversation_id, text) if asks else None
        )

    def _trusted_lookup(
        self, state: ConversationState, conversation_id: int, text: str, now: datetime
    ) -> Callable[[Transaction], TrustedFacts]:
        """What the trusted-person flow may need for this message (``flows.trusted``), to be
        read in the step's session: the code the message carries looked up by its hash, who
        takes part in the state's case, whether this conversation takes part."""
        code = trusted.typed_code(text)
        typed = code_hash(self.secret, code) if code is not None else None
        return partial(
            participants.facts_in,
            conversation_id=conversation_id,
            case_ref=state.case_ref,
            extra=state.extra,
            typed_hash=typed,
            now=now,
        )

    def _with_new_code(self, found: TrustedFacts, now: datetime) -> TrustedFacts:
        """The facts with a fresh code (and its hash) to hand out."""
        fresh = new_code()
        minutes = timedelta(minutes=self.settings.trusted.code_minutes)
        return replace(
            found,
            new_code=fresh,
            new_code_hash=code_hash(self.secret, fresh),
            expires_at=now + minutes,
        )

    async def recover_unhandled(self) -> int:
        """Handle messages and events recorded but never handled (a crash, a los closing a
        case); their replies go to the outbox, once. Returns how many conversations."""
        conversations = await self.store.run(self.store.unhandled_conversations)
        for conversation_id in conversations:
            await self.drain(conversation_id, {}, recovering=True)
        return len(conversations)

    async def process_pending(self) -> int:
        """Handle what is waiting without a caller: events (a los closed a case) and messages
        a crashed worker left; replies go to the outbox. Run by the server every second."""
        conversations = await self.store.run(self.store.unhandled_conversations)
        for conversation_id in conversations:
            await self.drain(conversation_id, {})
        return len(conversations)

    async def los_typing(self, channel: str, user: str) -> bool:
        """Whether the los is writing to this citizen now."""
        return await self.store.run(self.store.los_typing, channel, self.address(channel, user))

    async def take_pending(self, channel: str, user: str) -> tuple[Outbound, ...]:
        """Messages waiting for this citizen (los replies, read receipts), marked delivered."""
        return await self.store.run(self.store.take_pending, channel, self.address(channel, user))
