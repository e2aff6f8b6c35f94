"""Effects a flow asks for; the application carries them out in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

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


class UnplacedReason(StrEnum):
    """Why the bot could not place a message."""

    UNSURE = "unsure"
    """It was unsure and asked the citizen to choose among likely services."""
    OUT_OF_SCOPE = "out_of_scope"
    """The model called it clearly something else (not a greeting or thanks)."""
    NOT_UNDERSTOOD = "not_understood"
    """Nothing recognised it (the offline matcher's fallback)."""


@dataclass(frozen=True)
class NoteUnplaced:
    """A message the bot could not place, for the content editors: masked text only, with
    no link back to the conversation. ``token`` is random; the conversation remembers it for
    one turn only, so that the citizen's answer to the choice can be added (``UnplacedChosen``)."""

    token: str
    text: str
    language: str
    reason: UnplacedReason
    guessed: str | None
    confidence: float
    day: date
    """The municipality's local date (no time of day: it would point to the message)."""


@dataclass(frozen=True)
class UnplacedChosen:
    """What the citizen chose next after an unplaced message: a service id, "los" for a
    person, "other" for something else."""

    token: str
    chosen: str


class OwnVoiceOutcome(StrEnum):
    """How a round of questions before a meeting went."""

    SENT = "sent"
    """The los sent it; the citizen's conversation has not got it yet."""
    ASKING = "asking"
    """The citizen got the first question and is answering."""
    DONE = "done"
    """Every question was answered or skipped."""
    STOPPED = "stopped"
    """The citizen stopped (or a crisis interrupted it); what was answered is kept."""
    NOT_STARTED = "not_started"
    """The conversation was no longer with the case when the questions arrived."""


@dataclass(frozen=True)
class OwnVoiceAnswer:
    """The citizen answered (or skipped) one question before a meeting: this message is
    their own words for the case (kept verbatim, marked as the child's own words)."""

    request: int
    reference: str
    position: int
    skipped: bool = False


@dataclass(frozen=True)
class OwnVoiceProgress:
    """A round of questions before a meeting started, ended or could not start."""

    request: int
    outcome: OwnVoiceOutcome


@dataclass(frozen=True)
class CreateInvite:
    """The young person asked for a one-time code to bring someone into their case; only
    the code's keyed hash is kept."""

    reference: str
    code_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class ClaimInvite:
    """Somebody sent a valid code: it is used up now, held for this conversation."""

    invite: int


@dataclass(frozen=True)
class JoinCase:
    """The invited person gave a first name and accepted the rules (the text as shown, by
    its version): they take part in the case from now on."""

    invite: int
    name: str
    rules_version: str
    rules_text: str
    language: str


@dataclass(frozen=True)
class RemoveParticipant:
    """The young person removed somebody from their case (``reference``), or the invited
    person left (``reference`` None: their own participation)."""

    participant: int
    reference: str | None = None


@dataclass(frozen=True)
class ParticipantSaid:
    """An invited person wrote in the case: the message is the case's, marked with their
    name; with ``crisis_category`` the case becomes urgent."""

    participant: int
    reference: str
    crisis_category: str | None = None


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
    | NoteUnplaced
    | UnplacedChosen
    | OwnVoiceAnswer
    | OwnVoiceProgress
    | CreateInvite
    | ClaimInvite
    | JoinCase
    | RemoveParticipant
    | ParticipantSaid
)
