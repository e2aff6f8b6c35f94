"""The conversation repository: messages recorded first, handled in order, replies delivered.

Every inbound message (and every event, such as a los closing the case) is committed before
anything else happens to it. A conversation's messages are then handled one at a time, oldest
first: a step is saved only if the conversation's ``version`` is still the one it was computed
on, so two processes never both move a conversation on. Replies nobody waits for (a los reply,
a read receipt, the answer to a message recovered after a crash, or to an event) wait in the
outbox until a channel has delivered them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Engine, func, select, true, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.identity import new_handle
from bot.store import hot
from bot.store.cases import case_status
from bot.store.db import scrub, statement_sessions
from bot.store.duty import duty_switches
from bot.store.enums import CaseStatus, Direction, Sender
from bot.store.models import Conversation, Message, Outbox
from flows.answers import DANGER_NOW_BUTTON
from flows.types import Button, Outbound

MAX_STORED_CHARS = 20_000
TAKE_LEASE = timedelta(seconds=30)
RECORD_ATTEMPTS = 4
"""Recording waits out a locked database (each try waits up to the busy timeout, 10 s on
SQLite) rather than lose the message."""
T = TypeVar("T")


class _MovedOn(Exception):
    """The conversation was moved on by another worker since the step was computed."""


@dataclass(frozen=True)
class RecordedInbound:
    """An inbound message safely on disk, with its conversation's stored state."""

    conversation_id: int
    message_id: int
    handle: str
    state_json: str
    duplicate: bool


@dataclass(frozen=True)
class PendingMessage:
    """The oldest message of a conversation not yet handled, with the state to handle it on."""

    id: int
    conversation_id: int
    channel: str
    direction: Direction
    text: str
    button: str | None
    media: str | None
    hint: str | None
    attempts: int
    created_at: datetime
    state_json: str
    version: int
    area: str = "default"
    """The conversation's area (whose settings and content answer it)."""


@dataclass(frozen=True)
class SavedStep:
    """A step saved: the effects' extra replies, and the conversation's next unhandled
    message as the step's transaction saw it (None: none waits), so that the router need
    not ask again."""

    extra: tuple[Outbound, ...]
    next: PendingMessage | None


@dataclass(frozen=True)
class StoredReply:
    """An outbound message to record."""

    sender: str
    text: str
    language: str
    buttons: tuple[Button, ...] = ()
    short: str | None = None
    """The complete shorter form for channels with tight limits (kept in the outbox)."""

    @classmethod
    def of(cls, reply: Outbound) -> StoredReply:
        """The reply as it is recorded."""
        return cls(str(sender_of(reply)), reply.text, reply.language, reply.buttons, reply.short)


@dataclass(frozen=True)
class HandledRecord:
    """What is stored about a handled message: its replies and what it was about."""

    replies: tuple[Outbound, ...]
    language: str
    topic: str | None
    crisis: bool
    answered: bool = True
    """False while the message waits to be handled (recorded by a process that died)."""


@dataclass(frozen=True)
class HistoryLine:
    """One message of a conversation as its citizen saw it."""

    text: str
    language: str
    sender: str
    mine: bool
    at: datetime | None = None
    buttons: tuple[Button, ...] = ()
    """A bot message's choices ..."""
    pressed: str | None = None
    """... and, for the citizen's message, the choice it pressed (its payload)."""
    crisis: bool = False
    receipt: bool = False
    """A read receipt ("Los har lest meldingen din"), where it was delivered."""
    media: str | None = None
    """For the citizen's message: what came besides text ("document": a file they sent)."""


@dataclass(frozen=True)
class Delivery:
    """Outbox messages for one conversation, to be acknowledged once the channel took them;
    ``answering`` holds the message each answers (None for a los reply or a receipt), so that
    replies sent together can be rendered together."""

    ids: tuple[int, ...]
    messages: tuple[Outbound, ...]
    answering: tuple[int | None, ...] = ()
    choices_before: tuple[int, ...] = ()
    """Per message: the choices of earlier replies to the same message already delivered
    (a delivery cut short numbers the rest on from there, as the router recorded them)."""


def buttons_to_json(buttons: Sequence[Button]) -> str:
    """Buttons as stored with a reply or an outbox message."""
    return json.dumps(
        [{"label": b.label, "payload": b.payload} for b in buttons], ensure_ascii=False
    )


def buttons_from_json(raw: str | None) -> tuple[Button, ...]:
    """The buttons stored by ``buttons_to_json``."""
    return tuple(Button(b["label"], b["payload"]) for b in json.loads(raw or "[]"))


def is_crisis_answer(flagged: bool, first: bool, buttons: str | None) -> bool:
    """Whether a recorded reply was a crisis answer (``Outbound.crisis``): the first reply
    to a message that raised the crisis flag (the crisis answer or the reminder come first),
    or the offer with the "someone is in danger now" button."""
    return (flagged and first) or f'"{DANGER_NOW_BUTTON}"' in (buttons or "")


def record_event(
    session: Session, conversation_id: int, what: str, now: datetime, text: str = ""
) -> None:
    """Something happened to the conversation (a los closed the case, sent questions): handled
    in order with the citizen's messages by the router, the one writer of conversation state.
    ``text`` is what the event carries for the flow (staff-written; never understood)."""
    session.add(
        Message(
            conversation_id=conversation_id,
            direction=Direction.EVENT,
            sender=Sender.SYSTEM,
            text=text,
            button=what,
            created_at=now,
            attempts=0,
        )
    )


def sender_of(message: Outbound) -> Sender:
    """Who an outbound message is from, as stored (a read receipt is its own kind)."""
    if message.receipt:
        return Sender.RECEIPT
    return Sender.LOS if message.sender == "los" else Sender.BOT


def as_outbound(
    sender: str,
    text: str,
    language: str,
    buttons: tuple[Button, ...],
    short: str | None = None,
    crisis: bool = False,
) -> Outbound:
    """A stored message as the channel sends it (a read receipt is a bot status line)."""
    if sender == Sender.LOS:
        return Outbound(text, language, buttons, "los", short=short)
    receipt = sender == Sender.RECEIPT
    return Outbound(text, language, buttons, "bot", receipt=receipt, short=short, crisis=crisis)


def _reply_rows(
    conversation_id: int, message_id: int, replies: Sequence[StoredReply], now: datetime
) -> list[dict[str, object]]:
    """The message rows of ``replies`` to ``message_id`` (``hot.REPLY_COLUMNS``)."""
    return [
        {
            "conversation_id": conversation_id,
            "direction": Direction.OUT,
            "sender": Sender(reply.sender),
            "text": reply.text[:MAX_STORED_CHARS],
            "language": reply.language,
            "created_at": now,
            "handled_at": now,
            "reply_to": message_id,
            "buttons": buttons_to_json(reply.buttons),
            "attempts": 0,
            "crisis": False,
        }
        for reply in replies
    ]


def _queue_rows(
    conversation_id: int, message_id: int, replies: Sequence[StoredReply], now: datetime
) -> list[dict[str, object]]:
    """The outbox rows of ``replies`` to ``message_id`` (``hot.QUEUE_COLUMNS``)."""
    return [
        {
            "conversation_id": conversation_id,
            "sender": Sender(reply.sender),
            "text": reply.text,
            "buttons": buttons_to_json(reply.buttons),
            "language": reply.language,
            "created_at": now,
            "reply_to": message_id,
            "attempts": 0,
            "short": reply.short,
        }
        for reply in replies
    ]


class StepEffects(Protocol):
    """What a step's effects ask of its saving (``bot.store.effects.EffectRunner``): the
    case the message joins is set as the message is marked handled, the rest applied after."""

    @property
    def joins_case(self) -> str | None:
        """The case the message joins, if it joins one."""

    @property
    def applies_any(self) -> bool:
        """Whether ``apply`` has anything to do."""

    def apply(self, session: Session, conversation_id: int) -> tuple[tuple[Outbound, ...], bool]:
        """The other effects; extra replies, and whether the conversation was deleted."""


class Store:
    """Conversation, message and outbox persistence. Its methods are synchronous (one short
    transaction each); ``run`` calls one on a bounded thread pool so that an ``async``
    handler never waits on the disk, and a locked database slows one request, not all."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, workers: int = 8) -> None:
        self.sessions = sessions
        self.clock = clock
        bind = sessions.kw.get("bind")
        self._reads = statement_sessions(sessions)
        """Sessions for a step's reads (and the one-statement step), each statement on its
        own (``statement_sessions``)."""
        self._writes_at_once = isinstance(bind, Engine) and bind.dialect.name == "postgresql"
        """Whether a step without other effects saves in one statement (``hot.step_saved``)."""
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")
        self._acknowledging = ThreadPoolExecutor(max_workers=2, thread_name_prefix="store-ack")

    async def run(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run one store method off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(work, *args, **kwargs))

    async def acknowledge_now(self, ids: Sequence[int]) -> None:
        """``acknowledge`` on threads of its own, never queued behind other work: the time
        between a channel taking a message and its acknowledgement is the window in which a
        crash makes it go twice."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._acknowledging, self.acknowledge, ids)

    def close(self) -> None:
        """Stop the worker threads (after the last request)."""
        self._executor.shutdown(wait=True)
        self._acknowledging.shutdown(wait=True)

    def step_facts(
        self, case_ref: str | None, day: str, also: Callable[[Session], T] | None = None
    ) -> tuple[CaseStatus | None, dict[str, bool], T | None]:
        """What a flow step needs to know from outside its conversation: the status of its
        case (None when it has none, or it was deleted), the day's duty switches, and what
        ``also`` reads (a store function: the trusted-person facts), in one session (no
        transaction: each read stands alone)."""
        with self._reads() as session:
            status = None if case_ref is None else case_status(session, case_ref)
            switches = dict(duty_switches(session, day))
            return status, switches, also(session) if also is not None else None

    def scrub(self) -> bool:
        """After a deletion: no copy of the deleted rows left in the database files."""
        return scrub(self.sessions)

    def conversation(
        self, session: Session, channel: str, address: str, language: str, area: str = "default"
    ) -> Conversation:
        """The conversation for this channel address, created on first contact (in
        ``area``; an existing one keeps its area)."""
        found = session.scalars(
            select(Conversation).where(
                Conversation.channel == channel, Conversation.address_hash == address
            )
        ).first()
        if found is not None:
            return found
        now = self.clock()
        created = Conversation(
            channel=channel,
            address_hash=address,
            handle=new_handle(),
            language=language,
            state_json="{}",
            created_at=now,
            updated_at=now,
            version=0,
            area=area,
        )
        session.add(created)
        session.flush()
        return created

    def record_inbound(
        self,
        channel: str,
        address: str,
        text: str,
        external_id: str | None,
        language: str,
        *,
        button: str | None = None,
        media: str | None = None,
        hint: str | None = None,
        area: str = "default",
    ) -> RecordedInbound:
        """Commit the inbound message before anything else; a repeated external id is a
        duplicate. Two first messages of a new conversation at once: the second finds the
        conversation the first created. A citizen who writes is reachable again: a mark
        that the platform refused delivery is cleared in the same transaction (it almost
        never is set, and then nothing more is written). ``area`` is where a new
        conversation belongs; an existing one keeps its own."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                return self._record(
                    channel, address, text, external_id, language, button, media, hint, area
                )
            except IntegrityError:
                continue  # the conversation (or this external id) was created meanwhile
            except OperationalError:  # locked by a backup or a long command: wait, not lose
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        return self._record(
            channel, address, text, external_id, language, button, media, hint, area
        )

    def _record(
        self,
        channel: str,
        address: str,
        text: str,
        external_id: str | None,
        language: str,
        button: str | None,
        media: str | None,
        hint: str | None,
        area: str = "default",
    ) -> RecordedInbound:
        with self.sessions.begin() as session:
            known = self._known(session, channel, address, external_id)
            if known is None:  # first contact
                created = self.conversation(session, channel, address, language, area)
                conversation_id, handle, state_json = created.id, created.handle, created.state_json
            else:
                conversation_id, handle, state_json, unreachable, seen = known
                if seen is not None:
                    return RecordedInbound(conversation_id, seen, handle, state_json, True)
                if unreachable:
                    session.execute(
                        update(Conversation)
                        .where(Conversation.id == conversation_id)
                        .values(unreachable=False)
                    )
            message_id = (
                session.connection()
                .execute(
                    hot.RECORD,
                    {
                        "conversation_id": conversation_id,
                        "direction": Direction.IN,
                        "sender": Sender.CITIZEN,
                        "text": text[:MAX_STORED_CHARS],
                        "external_id": external_id,
                        "button": button[:200] if button else None,
                        "media": media,
                        "hint": hint[:8] if hint else None,
                        "created_at": self.clock(),
                        "attempts": 0,
                    },
                )
                .scalar_one()
            )
            return RecordedInbound(conversation_id, message_id, handle, state_json, False)

    @staticmethod
    def _known(
        session: Session, channel: str, address: str, external_id: str | None
    ) -> tuple[int, str, str, bool, int | None] | None:
        """In one query: the conversation of this address (None: there is none yet) as its
        id, handle, state and whether delivery to it was refused, and the message already
        recorded under ``external_id``."""
        statement, params = hot.KNOWN_NO_ID, {"channel": channel, "address": address}
        if external_id is not None:
            statement, params = hot.KNOWN, {**params, "external_id": external_id}
        row = session.connection().execute(statement, params).first()
        if row is None:
            return None
        return row[0], row[1], row[2], bool(row[3]), row[4]

    def next_unhandled(self, conversation_id: int) -> PendingMessage | None:
        """The oldest unhandled message (or event) of a conversation, with its state (one
        statement, no transaction: no BEGIN and ROLLBACK around it, and on PostgreSQL no
        ROLLBACK to make psycopg forget the statements it prepared on that connection)."""
        with self._reads() as session:
            return self._pending(session, conversation_id)

    @staticmethod
    def _pending(session: Session, conversation_id: int) -> PendingMessage | None:
        """``next_unhandled`` within ``session``'s transaction."""
        row = (
            session.connection().execute(hot.PENDING, {"conversation_id": conversation_id}).first()
        )
        if row is None:
            return None
        message_id, conversation_id, channel, direction, *rest = row
        return PendingMessage(message_id, conversation_id, channel, Direction(direction), *rest)

    def save_step(
        self,
        pending: PendingMessage,
        *,
        state_json: str,
        language: str,
        intent: str | None,
        topic: str | None,
        crisis: bool,
        crisis_category: str | None = None,
        crisis_lexicon: str | None = None,
        replies: Sequence[StoredReply],
        to_outbox: bool,
        effects: StepEffects | None = None,
    ) -> SavedStep | None:
        """In one transaction: the new state, the message marked handled (and into the case
        its effects join, one more unread for its los), its other effects and its replies
        (into the outbox too when nobody waits for them), and a look at the conversation's
        next unhandled message. None, and nothing saved, when the conversation moved on since
        ``pending`` was read (another process handled a message): the caller reads the next
        message again. The effects return extra replies and whether they deleted the
        conversation (then nothing more is stored, and nothing is next).

        On PostgreSQL a step with no effects but joining a case (most of them: a question
        answered) is one statement that commits on its own (``_saved_at_once``)."""
        now = self.clock()
        step = {
            "conversation": pending.conversation_id,
            "read_version": pending.version,
            "message_id": pending.id,
            "new_state": state_json,
            "new_language": language,
            "now": now,
        }
        marking = {
            "message_id": pending.id,
            "now": now,
            "new_language": language,
            "new_intent": intent,
            "new_topic": topic,
            "new_crisis": crisis,
            "new_category": crisis_category,
            "new_lexicon": crisis_lexicon,
            "new_attempts": pending.attempts + 1,
            "into_case": effects.joins_case if effects is not None else None,
        }
        rows = _reply_rows(pending.conversation_id, pending.id, replies, now)
        queue = _queue_rows(pending.conversation_id, pending.id, replies, now) if to_outbox else []
        if self._writes_at_once and (effects is None or not effects.applies_any):
            return self._saved_at_once(pending, step | marking, rows, queue)
        try:
            with self.sessions.begin() as session:
                connection = session.connection()
                moved = connection.execute(hot.MOVE, step).first()  # and whether one waits
                if moved is None:
                    raise _MovedOn  # rolls the transaction back
                if connection.execute(hot.MARK_HANDLED, marking).rowcount != 1:
                    raise _MovedOn
                if marking["into_case"] is not None:
                    connection.execute(hot.CASE_UNREAD, {"case_ref": marking["into_case"]})
                extra: tuple[Outbound, ...] = ()
                if effects is not None and effects.applies_any:
                    extra, deleted = effects.apply(session, pending.conversation_id)
                    if deleted:
                        return SavedStep((), None)
                    if extra:
                        more = [StoredReply.of(r) for r in extra]
                        rows += _reply_rows(pending.conversation_id, pending.id, more, now)
                        if to_outbox:
                            queue += _queue_rows(pending.conversation_id, pending.id, more, now)
                if rows:
                    connection.execute(hot.REPLY, rows)  # all in one statement, no ids fetched
                if queue:
                    connection.execute(hot.QUEUE, queue)
                if moved[0] is None:  # nothing else waits (the usual case)
                    return SavedStep(extra, None)
                return SavedStep(extra, self._pending(session, pending.conversation_id))
        except _MovedOn:
            return None

    def _saved_at_once(
        self,
        pending: PendingMessage,
        step: dict[str, object],
        rows: list[dict[str, object]],
        queue: list[dict[str, object]],
    ) -> SavedStep | None:
        """``save_step`` of a step with no other effects, on PostgreSQL: all its writes in
        one statement (``hot.step_saved``), which commits on its own: one round trip
        instead of five or six (BEGIN, each write, COMMIT)."""
        parameters = dict(step, reply_direction=Direction.OUT, zero=0, no=False)
        for prefix, table_rows in (("replies", rows), ("queued", queue)):
            for i, row in enumerate(table_rows):
                parameters.update(
                    (f"{prefix}_{column}_{i}", value)
                    for column, value in row.items()
                    if column not in hot.SHARED
                )
        statement = hot.step_saved(len(rows), bool(queue))
        with self._reads() as session:  # autocommit: the statement is its own transaction
            moved, marked, waiting = session.connection().execute(statement, parameters).one()
            if moved != 1 or marked != 1:
                return None  # nothing was written: every write waits on the one before
            if waiting is None:
                return SavedStep((), None)
            return SavedStep((), self._pending(session, pending.conversation_id))

    def _add_replies(
        self,
        session: Session,
        conversation_id: int,
        message_id: int,
        replies: Sequence[StoredReply],
        to_outbox: bool,
    ) -> None:
        if not replies:
            return
        now = self.clock()
        connection = session.connection()
        connection.execute(hot.REPLY, _reply_rows(conversation_id, message_id, replies, now))
        if to_outbox:
            connection.execute(hot.QUEUE, _queue_rows(conversation_id, message_id, replies, now))

    def record_attempt(self, message_id: int, kind: str) -> None:
        """Handling raised: count the attempt and keep the error's kind (never its text)."""
        with self.sessions.begin() as session:
            message = session.get(Message, message_id)
            if message is not None:
                message.attempts += 1
                message.failure = kind[:64]

    def give_up(
        self, pending: PendingMessage, kind: str, replies: Sequence[StoredReply], to_outbox: bool
    ) -> None:
        """A message whose handling keeps failing: marked handled with the error's kind and
        answered with a safe reply, so that nothing after it (and no start-up) waits on it."""
        now = self.clock()
        with self.sessions.begin() as session:
            message = session.get(Message, pending.id)
            if message is None or message.handled_at is not None:
                return
            message.handled_at, message.failure = now, kind[:64]
            message.attempts = pending.attempts + 1
            self._add_replies(session, pending.conversation_id, pending.id, replies, to_outbox)

    def handled(self, message_id: int) -> HandledRecord:
        """The replies recorded for one message, in order, and what it was about (to answer a
        retry, or a caller whose message another worker handled)."""
        with self.sessions() as session:
            message = session.get(Message, message_id)
            rows = session.scalars(
                select(Message).where(Message.reply_to == message_id).order_by(Message.id)
            ).all()
            crisis = message is not None and message.crisis
            replies = tuple(
                as_outbound(
                    r.sender,
                    r.text,
                    r.language or "",
                    buttons_from_json(r.buttons),
                    crisis=is_crisis_answer(crisis, index == 0, r.buttons),
                )
                for index, r in enumerate(rows)
            )
            if message is None:
                return HandledRecord(replies, "", None, False)
            return HandledRecord(
                replies,
                message.language or "",
                message.topic,
                message.crisis,
                answered=message.handled_at is not None,
            )

    def replies_to(self, message_id: int) -> list[StoredReply]:
        """The replies recorded for one inbound message, in order."""
        return [StoredReply.of(r) for r in self.handled(message_id).replies]

    def unhandled_conversations(self) -> list[int]:
        """Conversations with messages or events recorded but not yet handled (a crash, a
        los closing a case), oldest first. Asked every second: each statement on its own
        (``statement_sessions``)."""
        with self._reads() as session:
            rows = session.execute(
                select(Message.conversation_id, func.min(Message.id))
                .where(
                    Message.handled_at.is_(None),
                    Message.direction.in_((Direction.IN, Direction.EVENT)),
                )
                .group_by(Message.conversation_id)
                .order_by(func.min(Message.id))
            ).all()
            return [row[0] for row in rows]

    def unhandled_inbound(self) -> list[tuple[int, int]]:
        """(conversation id, message id) of inbound messages recorded but never handled."""
        with self.sessions() as session:
            rows = session.execute(
                select(Message.conversation_id, Message.id)
                .where(Message.direction == Direction.IN, Message.handled_at.is_(None))
                .order_by(Message.id)
            ).all()
            return [(row[0], row[1]) for row in rows]

    def history(self, channel: str, address: str, limit: int) -> list[HistoryLine]:
        """The last ``limit`` messages of a conversation, oldest first, for a reloaded page,
        with their choices, the choice each press made and the read receipts delivered;
        what still waits in the outbox is left out (it comes with the next delivery, once)."""
        with self.sessions() as session:
            conversation = session.scalars(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.address_hash == address
                )
            ).first()
            if conversation is None:
                return []
            waiting = session.scalars(
                select(Outbox).where(
                    Outbox.conversation_id == conversation.id, Outbox.delivered_at.is_(None)
                )
            ).all()
            waiting_replies = {o.reply_to for o in waiting if o.reply_to is not None}
            waiting_los = {o.text for o in waiting if o.sender == Sender.LOS}
            rows = session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.direction != Direction.EVENT,
                )
                .order_by(Message.id.desc())
                .limit(limit)
            ).all()
            flagged = {m.id for m in rows if m.direction == Direction.IN and m.crisis}
            answered: set[int | None] = set()
            lines = []
            for m in reversed(rows):
                first = m.reply_to not in answered
                answered.add(m.reply_to)
                if not (m.text or m.button or m.media) or m.reply_to in waiting_replies:
                    continue
                if m.sender == Sender.LOS and m.text in waiting_los:
                    continue
                crisis = m.direction == Direction.OUT and is_crisis_answer(
                    m.reply_to in flagged, first, m.buttons
                )
                lines.append(
                    HistoryLine(
                        m.text,
                        m.language or conversation.language,
                        str(m.sender),
                        m.direction == Direction.IN,
                        aware(m.created_at),
                        buttons_from_json(m.buttons),
                        m.button if m.direction == Direction.IN else None,
                        crisis,
                        media=m.media if m.direction == Direction.IN else None,
                    )
                )
            if not lines:
                return []
            receipts = session.scalars(
                select(Outbox).where(
                    Outbox.conversation_id == conversation.id,
                    Outbox.sender == Sender.RECEIPT,
                    Outbox.delivered_at.is_not(None),
                )
            ).all()
            since = lines[0].at or aware(conversation.created_at)
            read = [
                HistoryLine(r.text, r.language, "bot", False, aware(r.created_at), receipt=True)
                for r in receipts
                if aware(r.created_at) >= since
            ]
            return sorted([*lines, *read], key=lambda line: line.at or since)  # stable

    def _conversation_id(self, session: Session, channel: str, address: str) -> int | None:
        return session.scalars(
            select(Conversation.id).where(
                Conversation.channel == channel, Conversation.address_hash == address
            )
        ).first()

    def enqueue(
        self,
        channel: str,
        address: str,
        messages: Sequence[Outbound],
        *,
        attempts: int = 0,
        retry_after: timedelta | None = None,
    ) -> tuple[int, ...]:
        """Put replies that could not be delivered now into the conversation's outbox, in
        order, due after ``retry_after`` (at once when None). Returns their ids; () when the
        conversation no longer exists (deleted meanwhile)."""
        if not messages:
            return ()
        now = self.clock()
        with self.sessions.begin() as session:
            conversation_id = self._conversation_id(session, channel, address)
            if conversation_id is None:
                return ()
            rows = [
                Outbox(
                    conversation_id=conversation_id,
                    sender=sender_of(message),
                    text=message.text,
                    buttons=buttons_to_json(message.buttons),
                    language=message.language,
                    created_at=now,
                    reply_to=None,
                    attempts=attempts,
                    next_attempt_at=None if retry_after is None else now + retry_after,
                    short=message.short,
                )
                for message in messages
            ]
            session.add_all(rows)
            session.flush()
            return tuple(row.id for row in rows)

    def claim_pending(
        self, channel: str, address: str, *, lease: timedelta, due_only: bool = True
    ) -> Delivery:
        """Outbox messages waiting for this conversation, oldest first, claimed for one
        delivery for ``lease``: no other process sends them meanwhile (a claim left by a
        crashed process runs out). Those due now, or (``due_only=False``) every one, so that
        a citizen who writes gets them before the new answer. Messages after one another
        delivery holds are left to it, to keep the order."""
        now = self.clock()
        token = secrets.token_hex(8)
        with self.sessions.begin() as session:
            conversation_id = self._conversation_id(session, channel, address)
            if conversation_id is None:
                return Delivery((), ())
            waiting = (Outbox.conversation_id == conversation_id) & Outbox.delivered_at.is_(None)
            free = Outbox.claimed_until.is_(None) | (Outbox.claimed_until <= now)
            due = Outbox.next_attempt_at.is_(None) | (Outbox.next_attempt_at <= now)
            session.execute(
                update(Outbox)
                .where(waiting, free, due if due_only else true())
                .values(claim=token, claimed_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            mine: list[Outbox] = []
            let_go: list[int] = []  # claimed, but after one another delivery is sending
            held_elsewhere = False
            for row in session.scalars(select(Outbox).where(waiting).order_by(Outbox.id)):
                if row.claim == token and held_elsewhere:
                    let_go.append(row.id)
                elif row.claim == token:
                    mine.append(row)
                elif row.claimed_until is not None and aware(row.claimed_until) > now:
                    held_elsewhere = True
            if let_go:
                self._release(session, let_go)
            return _delivery(mine, _choices_delivered(session, conversation_id, mine))

    def pending(self, channel: str, address: str, *, due_only: bool = True) -> Delivery:
        """Outbox messages waiting for this conversation, oldest first, without claiming
        them (to look, not to send)."""
        now = self.clock()
        with self.sessions() as session:
            conversation_id = self._conversation_id(session, channel, address)
            if conversation_id is None:
                return Delivery((), ())
            rows = session.scalars(
                select(Outbox)
                .where(Outbox.conversation_id == conversation_id, Outbox.delivered_at.is_(None))
                .order_by(Outbox.id)
            ).all()
            due = [
                r
                for r in rows
                if not due_only or r.next_attempt_at is None or aware(r.next_attempt_at) <= now
            ]
            return _delivery(due)

    def acknowledge(self, ids: Sequence[int]) -> None:
        """The channel accepted these outbox messages: they are delivered."""
        if not ids:
            return
        with self.sessions.begin() as session:
            session.execute(
                update(Outbox)
                .where(Outbox.id.in_(list(ids)), Outbox.delivered_at.is_(None))
                .values(delivered_at=self.clock(), claim=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def acknowledge_replies_to(self, message_id: int) -> None:
        """The replies to this message reached the citizen another way (the web chat's
        retried request returns them): what waits of them in the outbox is delivered."""
        with self.sessions.begin() as session:
            session.execute(
                update(Outbox)
                .where(Outbox.reply_to == message_id, Outbox.delivered_at.is_(None))
                .values(delivered_at=self.clock(), claim=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def postpone(self, ids: Sequence[int], retry_after: timedelta) -> None:
        """The channel could not deliver these now (a 5xx, a timeout, a 429): try later."""
        if not ids:
            return
        with self.sessions.begin() as session:
            session.execute(
                update(Outbox)
                .where(Outbox.id.in_(list(ids)))
                .values(
                    attempts=Outbox.attempts + 1,
                    next_attempt_at=self.clock() + retry_after,
                    claim=None,
                    claimed_until=None,
                )
                .execution_options(synchronize_session=False)
            )

    def extend_claim(self, ids: Sequence[int], lease: timedelta) -> None:
        """A delivery still sending these: hold them for another ``lease``."""
        if ids:
            with self.sessions.begin() as session:
                session.execute(
                    update(Outbox)
                    .where(Outbox.id.in_(list(ids)), Outbox.delivered_at.is_(None))
                    .values(claimed_until=self.clock() + lease)
                    .execution_options(synchronize_session=False)
                )

    def release(self, ids: Sequence[int]) -> None:
        """A delivery let go of these without sending them (they wait for the next one)."""
        if ids:
            with self.sessions.begin() as session:
                self._release(session, ids)

    def _release(self, session: Session, ids: Sequence[int]) -> None:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(list(ids)), Outbox.delivered_at.is_(None))
            .values(claim=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )

    def take_pending(self, channel: str, address: str) -> tuple[Outbound, ...]:
        """Waiting outbox messages, marked delivered at once: for channels whose answer is
        the delivery (the web chat's poll response, the terminal). Two polls at once never
        both get a message."""
        delivery = self.claim_pending(channel, address, lease=TAKE_LEASE)
        self.acknowledge(delivery.ids)
        return delivery.messages

    def los_typing(self, channel: str, address: str) -> bool:
        """Whether the los is writing to this conversation now (the console said so)."""
        now = self.clock()
        with self.sessions() as session:
            until = session.scalars(
                select(Conversation.los_typing_until).where(
                    Conversation.channel == channel, Conversation.address_hash == address
                )
            ).first()
        return until is not None and aware(until) > now

    def mark_unreachable(self, channel: str, address: str, unreachable: bool = True) -> None:
        """The platform refused delivery (the citizen blocked the bot); the los sees it.
        With False: reachable again (``record_inbound`` does that when the citizen writes).
        That almost never changes anything, so it looks first (on SQLite an UPDATE takes the
        one write lock even when it matches no row: behind the other conversations' commits,
        1.6 ms alone and 20-30 ms at 8 concurrent messages, scripts/bench_e2e.py's profile)."""
        changing = (
            (Conversation.channel == channel)
            & (Conversation.address_hash == address)
            & Conversation.unreachable.is_(not unreachable)
        )
        with self.sessions() as session:
            if session.scalars(select(Conversation.id).where(changing)).first() is None:
                return
        with self.sessions.begin() as session:
            session.execute(
                update(Conversation)
                .where(changing)
                .values(unreachable=unreachable)
                .execution_options(synchronize_session=False)
            )

    def set_push_address(self, channel: str, address: str, push_address: str) -> None:
        """Remember where to push this conversation's los replies (kept encrypted at rest)."""
        with self.sessions.begin() as session:
            conversation = session.scalars(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.address_hash == address
                )
            ).first()
            if conversation is not None and conversation.push_address != push_address:
                conversation.push_address = push_address

    def pending_addresses(self, channel: str) -> list[str]:
        """Address hashes on a channel with messages due in the outbox."""
        return [address for address, _ in self.pending_pushes(channel)]

    def pending_pushes(self, channel: str) -> list[tuple[str, str | None]]:
        """(address hash, push address) of reachable conversations on a channel with outbox
        messages due now."""
        now = self.clock()
        with self.sessions() as session:
            rows = session.execute(
                select(Conversation.address_hash, Conversation.push_address)
                .join(Outbox, Outbox.conversation_id == Conversation.id)
                .where(
                    Conversation.channel == channel,
                    Conversation.unreachable.is_(False),
                    Outbox.delivered_at.is_(None),
                    (Outbox.next_attempt_at.is_(None)) | (Outbox.next_attempt_at <= now),
                )
                .distinct()
            ).all()
            return [(row[0], row[1]) for row in rows]

    def areas_of(self, channel: str, addresses: Sequence[str]) -> dict[str, str]:
        """The area of each of these conversations on a channel (by address hash)."""
        if not addresses:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(Conversation.address_hash, Conversation.area).where(
                    Conversation.channel == channel,
                    Conversation.address_hash.in_(list(addresses)),
                )
            ).all()
            return {row[0]: row[1] for row in rows}


def _delivery(rows: Sequence[Outbox], choices_before: Sequence[int] = ()) -> Delivery:
    return Delivery(
        tuple(r.id for r in rows),
        tuple(
            as_outbound(r.sender, r.text, r.language, buttons_from_json(r.buttons), r.short)
            for r in rows
        ),
        tuple(r.reply_to for r in rows),
        tuple(choices_before),
    )


def _choices_delivered(
    session: Session, conversation_id: int, rows: Sequence[Outbox]
) -> tuple[int, ...]:
    """Per row: the choices of the replies to the same message delivered before it (0 unless
    a delivery was cut short in the middle of a step's replies)."""
    answering = {r.reply_to for r in rows if r.reply_to is not None}
    if not answering:
        return (0,) * len(rows)
    first = min(r.id for r in rows)
    delivered: dict[int, int] = {}
    for reply_to, buttons in session.execute(
        select(Outbox.reply_to, Outbox.buttons).where(
            Outbox.conversation_id == conversation_id,
            Outbox.reply_to.in_(answering),
            Outbox.id < first,
            Outbox.delivered_at.is_not(None),
        )
    ):
        if reply_to is not None:
            delivered[reply_to] = delivered.get(reply_to, 0) + len(buttons_from_json(buttons))
    return tuple(0 if r.reply_to is None else delivered.get(r.reply_to, 0) for r in rows)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
