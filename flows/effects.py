"""Effects a flow asks for; the application carries them out in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from flows.state import IntakeDraft


@dataclass(frozen=True)
class RecordConsent:
    """The citizen said yes to the consent text with this version, in this language."""

    version: str
    language: str
    scope: tuple[str, ...]
    text: str
    retention_days: int | None = None
    """The days after closing the text promised the case is kept (and then deleted)."""


@dataclass(frozen=True)
class WithdrawConsent:
    """The citizen withdrew consent: stop processing, keep only what the law requires."""


@dataclass(frozen=True)
class OpenCase:
    """Put a case in the on-duty los queue."""

    reference: str
    draft: IntakeDraft
    urgent: bool
    anonymous: bool
    language: str
    with_context: bool = False
    """Opened by a crisis: the flagged message and the conversation just before it (not
    already in another case) are linked to the case, for the los to read."""


@dataclass(frozen=True)
class AppendToCase:
    """A citizen message for the los handling an open case (kept verbatim)."""

    reference: str
    text: str


@dataclass(frozen=True)
class StoreAttachment:
    """Keep the document that came with this message (encrypted) in the open case."""

    reference: str


@dataclass(frozen=True)
class MarkUrgent:
    """A crisis was detected: the conversation and any open case become urgent."""

    category: str
    topic: str
    lexicon_version: str


@dataclass(frozen=True)
class StoreFeedback:
    """The citizen's 1-5 rating of a closed case."""

    reference: str
    score: int


@dataclass(frozen=True)
class ExportData:
    """Send the citizen a readable copy of what is stored about them."""

    timezone: str = "UTC"
    """The municipality's time zone: the times in the copy are in it (Europe/Oslo)."""


@dataclass(frozen=True)
class DeleteData:
    """Delete everything stored about this citizen (consent record kept as the law requires)."""


Effect = (
    RecordConsent
    | WithdrawConsent
    | OpenCase
    | AppendToCase
    | StoreAttachment
    | MarkUrgent
    | StoreFeedback
    | ExportData
    | DeleteData
)
