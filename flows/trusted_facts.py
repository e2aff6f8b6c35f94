"""What the router looked up for the trusted-person feature (*mitt nettverk*) before a step:
a fresh code to hand out, the code a message carries, who is in the owner's conversation and
whether this conversation takes part in someone else's. Plain values: flows stay pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CodeStatus(StrEnum):
    """What the store made of a code somebody sent."""

    VALID = "valid"
    EXPIRED = "expired"
    """Past its time, or the conversation it was for has ended."""
    USED = "used"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Member:
    """A person the young person brought into their conversation."""

    id: int
    name: str


@dataclass(frozen=True)
class Joined:
    """This conversation takes part in another's case (as an invited person)."""

    participant: int
    reference: str


@dataclass(frozen=True)
class TrustedFacts:
    """Looked up by the router for one step; the defaults say "nothing here"."""

    new_code: str = ""
    """A fresh one-time code, in case the owner asks for one now ..."""
    new_code_hash: str = ""
    """... and its keyed hash, the only form the store keeps."""
    expires_at: datetime | None = None
    """When a code made now runs out."""
    typed: CodeStatus | None = None
    """The status of the code this message carries (None: it carries none)."""
    invite: int | None = None
    """The invitation that code belongs to, when valid."""
    claimed_open: bool = False
    """The invitation this conversation is joining is held for it and its case is open."""
    members: tuple[Member, ...] = ()
    """Who is in the state's case besides the young person (active participants)."""
    joined: Joined | None = None
    """This conversation is an active participant in a case that is still open."""
