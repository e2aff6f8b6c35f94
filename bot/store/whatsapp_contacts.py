"""What the WhatsApp channel keeps with a conversation: the number to push to and the times
that decide WhatsApp's 24-hour customer-service window.

It is the conversation's push address (``conversations.push_address``, encrypted at rest like
every push address) holding a small JSON object instead of a bare number: ``to`` (the wa_id),
``seen`` (Unix time of the citizen's last message) and ``nudged`` (when the "a reply is
waiting" template last went). No schema change, nothing in memory: after a restart the
window and the template sent are known. Updated read-modify-write in one transaction (the row
locked where the database can), so a citizen writing while a template goes loses neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Conversation, Outbox

CHANNEL = "whatsapp"
MAX_REOPENS = 5
"""How often a message WhatsApp reported failed (after taking it) is put back in the outbox."""


@dataclass(frozen=True)
class Contact:
    """Where and when: the number, the citizen's last message, the last template sent."""

    to: str
    seen: float | None = None
    nudged: float | None = None

    @classmethod
    def parse(cls, raw: str | None) -> Contact | None:
        """The stored contact; None when there is none (or it is not one)."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("to"), str) or not data["to"]:
            return None
        return cls(data["to"], _number(data.get("seen")), _number(data.get("nudged")))

    def dump(self) -> str:
        """The JSON stored as the push address."""
        return json.dumps({"to": self.to, "seen": self.seen, "nudged": self.nudged})

    def window_open(self, now: datetime, window: timedelta) -> bool:
        """Whether a free-form message may go now: the citizen wrote within ``window``."""
        return self.seen is not None and now.timestamp() - self.seen < window.total_seconds()

    @property
    def nudged_since_seen(self) -> bool:
        """Whether the template already went since the citizen last wrote."""
        return self.nudged is not None and (self.seen is None or self.nudged >= self.seen)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class WhatsAppContacts:
    """The WhatsApp contact of each conversation, by its address hash."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def _update(self, address: str, change: Callable[[Contact | None], Contact | None]) -> None:
        with self.sessions.begin() as session:
            conversation = session.scalars(
                select(Conversation)
                .where(Conversation.channel == CHANNEL, Conversation.address_hash == address)
                .with_for_update()
            ).first()
            if conversation is None:
                return
            old = Contact.parse(conversation.push_address)
            new = change(old)
            if new is not None and new != old:
                conversation.push_address = new.dump()

    def get(self, address: str) -> Contact | None:
        """The conversation's contact, if it has one."""
        with self.sessions() as session:
            raw = session.scalars(
                select(Conversation.push_address).where(
                    Conversation.channel == CHANNEL, Conversation.address_hash == address
                )
            ).first()
        return Contact.parse(raw)

    def seen(self, address: str, number: str, at: float) -> None:
        """The citizen wrote (at Unix time ``at``) from this number: the window is open."""

        def change(old: Contact | None) -> Contact:
            if old is None or old.to != number:
                return Contact(number, at)
            return replace(old, seen=max(at, old.seen or 0.0))

        self._update(address, change)

    def nudged(self, address: str, at: float) -> None:
        """The "a reply is waiting" template went at Unix time ``at``."""
        self._update(address, lambda old: None if old is None else replace(old, nudged=at))

    def window_closed(self, address: str) -> None:
        """WhatsApp refused a message as outside the window (131047): trust that, not our
        clock, until the citizen writes again."""
        self._update(address, lambda old: None if old is None else replace(old, seen=None))

    def reopen(self, address: str, outbox_id: int, retry_after: timedelta) -> bool:
        """WhatsApp took a message and then reported it failed: put it back in this
        conversation's outbox, due after ``retry_after`` (at most ``MAX_REOPENS`` times).
        Whether it was put back."""
        with self.sessions.begin() as session:
            conversation_id = session.scalars(
                select(Conversation.id).where(
                    Conversation.channel == CHANNEL, Conversation.address_hash == address
                )
            ).first()
            if conversation_id is None:
                return False
            result = session.execute(
                update(Outbox)
                .where(
                    Outbox.id == outbox_id,
                    Outbox.conversation_id == conversation_id,
                    Outbox.delivered_at.is_not(None),
                    Outbox.attempts < MAX_REOPENS,
                )
                .values(
                    delivered_at=None,
                    attempts=Outbox.attempts + 1,
                    next_attempt_at=self.clock() + retry_after,
                    claim=None,
                    claimed_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
