"""Typed values that flows take and give: inbound, outbound, effects, context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from bot.settings import Settings
from flows.trusted_facts import TrustedFacts

if TYPE_CHECKING:
    from flows.commands import CommandWords

Translate = Callable[..., str]
"""``t(key, language, **params) -> str``: a catalog lookup (pure once catalogs are loaded)."""


def N_(key: str) -> str:
    """Mark a catalog key for extraction without translating it here."""
    return key


class AttachmentVerdict(StrEnum):
    """What the checks made of a file the citizen sent."""

    OK = "ok"
    TOO_BIG = "too_big"
    BAD_TYPE = "bad_type"


@dataclass(frozen=True)
class Attachment:
    """A file came with the message (the bytes stay with the channel until stored)."""

    verdict: AttachmentVerdict
    size: int
    """Bytes read (for a file too big: at least this many)."""


@dataclass(frozen=True)
class Inbound:
    """One message from a citizen, channel-neutral."""

    channel: str
    user: str
    text: str
    language_hint: str | None = None
    button: str | None = None
    truncated: bool = False
    unreadable: bool = False
    media: str | None = None
    """Set when the platform sent something that is not text: voice, photo, sticker, ..."""
    attachment: Attachment | None = None
    """A photo or a document sent as a file, checked for size and type."""
    area: str = ""
    """The area the entry leads to (a web chat path, an SMS number, a Telegram start
    parameter); empty: the default. Only a new conversation takes it; it never changes."""


@dataclass(frozen=True)
class Button:
    """A choice; channels without buttons show it as a numbered line."""

    label: str
    payload: str


@dataclass(frozen=True)
class Outbound:
    """One message to the citizen, already in their language."""

    text: str
    language: str
    buttons: tuple[Button, ...] = ()
    sender: Literal["bot", "los"] = "bot"
    receipt: bool = False
    """A read receipt ("Los har lest meldingen din"), shown as a status line where possible."""
    short: str | None = None
    """A complete shorter form for channels with tight limits (SMS): the crisis answer."""
    crisis: bool = False
    """The emergency numbers for someone who may be in danger (the crisis answer, the
    reminder, the danger offer): a channel that can makes it stand out and be announced."""


@dataclass(frozen=True)
class FlowContext:
    """Everything a flow may read besides state and message; built by the router."""

    settings: Settings
    t: Translate
    now: datetime
    office_open: bool = True
    next_opening: datetime | None = None
    age_is_minor: bool = False
    new_case_reference: str = ""
    note_token: str = ""
    """A fresh random token for an unplaced message's note (``NoteUnplaced``); none, none noted."""
    case_claimed: bool = False
    case_open: bool = False
    """Whether the state's case is still open (or claimed): not closed, withdrawn or gone."""
    short_texts: bool = False
    """The channel cannot carry long texts whole (SMS): texts that must be read whole, such
    as the consent, are shown (and recorded) in their shorter, separately versioned form."""
    callback_slots: tuple[datetime, ...] = ()
    """The next free callback slots to offer (starts, UTC), found by the router while the
    intake is at its contact steps; none elsewhere (flows/callback.py)."""
    extra: dict[str, str] = field(default_factory=dict)
    trusted: TrustedFacts = field(default_factory=TrustedFacts)
    """What the router looked up for bringing a trusted person in (``flows.trusted``)."""
    commands: CommandWords | None = None
    """The command words of ``t`` in the supported languages, read once per content
    revision; None: ``flows.commands`` reads them from ``t`` when it needs them."""
