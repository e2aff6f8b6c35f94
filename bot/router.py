"""The router: record the message, understand it, step the flow, commit effects, reply."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.effects import EffectRunner
from bot.i18n import Catalogs
from bot.identity import address_hash
from bot.notifications import Notices
from bot.schedule import Schedule
from bot.settings import Settings
from bot.staff import Staffing
from bot.store.models import Case, Conversation, Message, Outbox
from bot.store.repo import (
    RecordedInbound,
    Store,
    StoredReply,
    buttons_from_json,
    buttons_to_json,
)
from bot.text_input import clean
from flows import front_door
from flows.state import ConversationState
from flows.types import FlowContext, Inbound, Outbound
from nlu.service import Understander

log = logging.getLogger(__name__)
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


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


def new_reference() -> str:
    """A case reference a citizen can read aloud: K-7KQ2MX."""
    return "K-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def chosen_button(inbound: Inbound, state: ConversationState) -> Inbound:
    """A bare number on a channel without buttons picks the numbered choice offered last."""
    text = inbound.text.strip().rstrip(".)")
    if inbound.button is None and text.isdigit() and 0 < int(text) <= len(state.offered):
        return replace(inbound, button=state.offered[int(text) - 1])
    return inbound


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
    ) -> None:
        self.settings = settings
        self.store = store
        self.understander = understander
        self.catalogs = catalogs
        self.secret = secret
        self.clock = clock
        self.schedule = Schedule(settings)
        self.staffing = Staffing(settings, self.schedule)
        self.notices = Notices(settings, self.staffing, self.schedule)

    def address(self, channel: str, user: str) -> str:
        """The keyed hash under which this channel user's conversation is stored."""
        return address_hash(self.secret, channel, user)

    def context(self, state: ConversationState) -> FlowContext:
        """The read-only context a flow step sees: the time, whether a los is at work now
        (opening hours and someone on duty), and whether the state's case is still open."""
        now = self.clock()
        status = None
        with self.store.sessions() as session:
            if state.case_ref is not None:
                status = session.scalars(
                    select(Case.status).where(Case.reference == state.case_ref)
                ).first()
            staffed = bool(self.staffing.on_duty(session, now))
        is_open = self.schedule.is_open(now) and staffed
        next_opening = None
        if not is_open:
            hours = self.schedule.hours_on(self.schedule.local(now).date())
            after = hours[1] if hours is not None and hours[0] <= now < hours[1] else now
            next_opening = self.schedule.next_opening(after)
        return FlowContext(
            settings=self.settings,
            t=self.catalogs,
            now=now,
            office_open=is_open,
            next_opening=next_opening,
            new_case_reference=new_reference(),
            case_claimed=status == "claimed",
            case_open=status in ("open", "claimed"),
        )

    async def handle(self, inbound: Inbound, external_id: str | None = None) -> Handled:
        """Handle one message; the inbound is on disk before anything else happens to it."""
        default = self.settings.languages.default
        cleaned = clean(inbound.text)
        inbound = replace(
            inbound, text=cleaned.text, truncated=cleaned.truncated, unreadable=cleaned.unreadable
        )
        recorded = self.store.record_inbound(
            inbound.channel,
            self.address(inbound.channel, inbound.user),
            cleaned.text,
            external_id,
            default,
        )
        state = ConversationState.from_json(recorded.state_json, default)
        if recorded.duplicate:
            log.info("duplicate inbound conversation=%s", recorded.conversation_id)
            replies = tuple(
                Outbound(r.text, r.language, r.buttons)
                for r in self.store.replies_to(recorded.message_id)
            )
            return Handled(replies, state.language, None, False, False, duplicate=True)
        return await self._process(recorded, state, inbound)

    async def _process(
        self, recorded: RecordedInbound, state: ConversationState, inbound: Inbound
    ) -> Handled:
        inbound = chosen_button(inbound, state)
        previous = state.language if state.turns > 0 else None
        understanding = await self.understander.understand(  # the whole text: crisis check
            inbound.text, previous, inbound.language_hint
        )
        ctx = self.context(state)
        result = front_door.step(state, inbound, understanding, ctx)
        extra: list[Outbound] = []

        def apply(session: Session, conversation: Conversation) -> bool:
            runner = EffectRunner(
                session,
                conversation,
                recorded.message_id,
                ctx.now,
                self.catalogs,
                self.staffing,
                self.notices,
                extra,
            )
            runner.run(result.effects)
            return runner.deleted

        replies = result.replies
        flag = understanding.crisis if result.crisis else None
        offered = tuple(b.payload for r in replies for b in r.buttons)  # numbered in order
        self.store.save_step(
            recorded.conversation_id,
            recorded.message_id,
            state_json=result.state.evolve(offered=offered).to_json(),
            language=result.state.language,
            intent=understanding.intent,
            topic=result.topic,
            crisis=result.crisis,
            crisis_category=flag.category if flag else None,
            crisis_lexicon=flag.lexicon_version if flag else None,
            replies=[StoredReply(r.sender, r.text, r.language, r.buttons) for r in replies],
            effects=apply,
        )
        log.info(
            "handled conversation=%s intent=%s source=%s topic=%s crisis=%s effects=%s",
            recorded.conversation_id,
            understanding.intent,
            understanding.source,
            result.topic,
            result.crisis,
            ",".join(type(e).__name__ for e in result.effects),
        )
        return Handled(
            (*replies, *extra), result.state.language, result.topic, result.crisis, result.handover
        )

    async def recover_unhandled(self) -> int:
        """Answer messages recorded before a crash but never handled; replies go to the outbox
        (delivered when the citizen is next in touch). Returns how many were recovered."""
        default = self.settings.languages.default
        recovered = 0
        for conversation_id, message_id in self.store.unhandled_inbound():
            with self.store.sessions() as session:
                conversation = session.get(Conversation, conversation_id)
                message = session.get(Message, message_id)
                if conversation is None or message is None:
                    continue
                recorded = RecordedInbound(
                    conversation_id, message_id, conversation.handle, conversation.state_json, False
                )
                inbound = Inbound(conversation.channel, "", message.text)
            state = ConversationState.from_json(recorded.state_json, default)
            handled = await self._process(recorded, state, inbound)
            with self.store.sessions.begin() as session:
                for reply in handled.replies:
                    session.add(
                        Outbox(
                            conversation_id=conversation_id,
                            sender=reply.sender,
                            text=reply.text,
                            buttons=buttons_to_json(reply.buttons),
                            language=reply.language,
                            created_at=self.clock(),
                        )
                    )
            recovered += 1
        return recovered

    def take_pending(self, channel: str, user: str) -> tuple[Outbound, ...]:
        """Messages waiting for this citizen (los replies, read receipts), marked delivered."""
        return self.take_pending_by_address(channel, self.address(channel, user))

    def take_pending_by_address(self, channel: str, address: str) -> tuple[Outbound, ...]:
        """The same, for a conversation known by its keyed hash."""
        with self.store.sessions.begin() as session:
            conversation = session.scalars(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.address_hash == address
                )
            ).first()
            if conversation is None:
                return ()
            return take_outbox(session, conversation.id, self.clock)


def take_outbox(session: Session, conversation_id: int, clock: Clock) -> tuple[Outbound, ...]:
    """Pending outbox messages of one conversation, oldest first, marked delivered."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.conversation_id == conversation_id, Outbox.delivered_at.is_(None))
        .order_by(Outbox.id)
    ).all()
    now = clock()
    messages = []
    for row in rows:
        row.delivered_at = now
        buttons = buttons_from_json(row.buttons)
        if row.sender == "los":
            messages.append(Outbound(row.text, row.language, buttons, "los"))
        else:
            messages.append(
                Outbound(row.text, row.language, buttons, "bot", receipt=row.sender == "receipt")
            )
    return tuple(messages)
