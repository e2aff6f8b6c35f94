"""Repositories over SQLAlchemy: record inbound first, then save a step in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.identity import new_handle
from bot.store.models import Conversation, Message, Outbox
from flows.types import Button

MAX_STORED_CHARS = 20_000


@dataclass(frozen=True)
class RecordedInbound:
    """An inbound message safely on disk, with its conversation's stored state."""

    conversation_id: int
    message_id: int
    handle: str
    state_json: str
    duplicate: bool


def buttons_to_json(buttons: Sequence[Button]) -> str:
    """Buttons as stored with a reply or an outbox message."""
    return json.dumps(
        [{"label": b.label, "payload": b.payload} for b in buttons], ensure_ascii=False
    )


def buttons_from_json(raw: str | None) -> tuple[Button, ...]:
    """The buttons stored by ``buttons_to_json``."""
    return tuple(Button(b["label"], b["payload"]) for b in json.loads(raw or "[]"))


@dataclass(frozen=True)
class StoredReply:
    """An outbound message to record."""

    sender: str
    text: str
    language: str
    buttons: tuple[Button, ...] = ()


class Store:
    """Conversation and message persistence."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def conversation(
        self, session: Session, channel: str, address: str, language: str
    ) -> Conversation:
        """The conversation for this channel address, created on first contact."""
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
        )
        session.add(created)
        session.flush()
        return created

    def record_inbound(
        self, channel: str, address: str, text: str, external_id: str | None, language: str
    ) -> RecordedInbound:
        """Commit the inbound message before anything else; a repeated external id is a
        duplicate."""
        with self.sessions.begin() as session:
            conversation = self.conversation(session, channel, address, language)
            if external_id is not None:
                seen = session.scalars(
                    select(Message.id).where(
                        Message.conversation_id == conversation.id,
                        Message.external_id == external_id,
                    )
                ).first()
                if seen is not None:
                    return RecordedInbound(
                        conversation.id, seen, conversation.handle, conversation.state_json, True
                    )
            message = Message(
                conversation_id=conversation.id,
                direction="in",
                sender="citizen",
                text=text[:MAX_STORED_CHARS],
                external_id=external_id,
                created_at=self.clock(),
            )
            session.add(message)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                raise
            return RecordedInbound(
                conversation.id, message.id, conversation.handle, conversation.state_json, False
            )

    def save_step(
        self,
        conversation_id: int,
        message_id: int,
        *,
        state_json: str,
        language: str,
        intent: str | None,
        topic: str | None,
        crisis: bool,
        crisis_category: str | None = None,
        crisis_lexicon: str | None = None,
        replies: Sequence[StoredReply],
        effects: Callable[[Session, Conversation], bool] | None = None,
    ) -> None:
        """In one transaction: new state, the inbound marked handled, replies and effects.

        ``effects`` returns True when it deleted the conversation; then nothing more is stored.
        """
        now = self.clock()
        with self.sessions.begin() as session:
            conversation = session.get_one(Conversation, conversation_id)
            conversation.state_json = state_json
            conversation.language = language
            conversation.updated_at = now
            inbound = session.get_one(Message, message_id)
            inbound.handled_at = now
            inbound.language, inbound.intent, inbound.topic = language, intent, topic
            inbound.crisis = crisis
            inbound.crisis_category, inbound.crisis_lexicon = crisis_category, crisis_lexicon
            if effects is not None and effects(session, conversation):
                return
            for reply in replies:
                session.add(
                    Message(
                        conversation_id=conversation_id,
                        direction="out",
                        sender=reply.sender,
                        text=reply.text[:MAX_STORED_CHARS],
                        language=reply.language,
                        created_at=now,
                        handled_at=now,
                        reply_to=message_id,
                        buttons=buttons_to_json(reply.buttons),
                    )
                )

    def replies_to(self, message_id: int) -> list[StoredReply]:
        """The replies recorded for one inbound message, in order (to answer a retry again)."""
        with self.sessions() as session:
            rows = session.scalars(
                select(Message).where(Message.reply_to == message_id).order_by(Message.id)
            ).all()
            return [
                StoredReply(
                    row.sender, row.text, row.language or "", buttons_from_json(row.buttons)
                )
                for row in rows
            ]

    def unhandled_inbound(self) -> list[tuple[int, int]]:
        """(conversation id, message id) of inbound messages recorded but never handled."""
        with self.sessions() as session:
            rows = session.execute(
                select(Message.conversation_id, Message.id)
                .where(Message.direction == "in", Message.handled_at.is_(None))
                .order_by(Message.id)
            ).all()
            return [(row[0], row[1]) for row in rows]

    def mark_unreachable(self, channel: str, address: str, unreachable: bool = True) -> None:
        """The platform refused delivery (the citizen blocked the bot); the los sees it."""
        with self.sessions.begin() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.channel == channel, Conversation.address_hash == address)
                .values(unreachable=unreachable)
            )

    def pending_addresses(self, channel: str) -> list[str]:
        """Address hashes on a channel with messages waiting in the outbox."""
        with self.sessions() as session:
            rows = session.scalars(
                select(Conversation.address_hash)
                .join(Outbox, Outbox.conversation_id == Conversation.id)
                .where(Conversation.channel == channel, Outbox.delivered_at.is_(None))
                .distinct()
            ).all()
            return list(rows)
