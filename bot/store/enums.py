"""The closed vocabularies the store keeps: directions, senders, case and delivery states.

They are StrEnums, so a stored value reads back as the enum and compares with plain
strings where old code still uses them.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


class Direction(StrEnum):
    """Which way a message went."""

    IN = "in"
    OUT = "out"
    EVENT = "event"
    """Something that happened to the conversation (a los closed the case): handled in
    order with the citizen's messages, by the one writer of conversation state."""


class Sender(StrEnum):
    """Who wrote a message."""

    CITIZEN = "citizen"
    BOT = "bot"
    LOS = "los"
    RECEIPT = "receipt"
    SYSTEM = "system"


class CaseStatus(StrEnum):
    """Where a case stands in the los queue."""

    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class DocumentType(StrEnum):
    """The kinds of file a family may send into a case, as their first bytes tell."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    PDF = "application/pdf"


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED)


def enum_column(kind: type[StrEnum], length: int) -> Enum:
    """A column type that stores the enum's value as a short string (no database enum)."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


OUTCOME_KINDS = ("answered", "referred", "familieteam", "no_contact", "declined", "other")
"""How a case can end (the console's list, ``bot.console.present.OUTCOME_KEYS``); the stored
outcome is the kind, then any words. Only the kind goes into the audit."""
