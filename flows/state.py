"""Conversation state: a typed value the router loads, a flow steps, the store saves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass, replace
from enum import StrEnum
from typing import Any

from flows.voice import Register


class Phase(StrEnum):
    """Where the conversation stands."""

    IDLE = "idle"
    INTAKE_CONSENT = "intake_consent"
    INTAKE_ABOUT = "intake_about"
    INTAKE_AGE = "intake_age"
    INTAKE_STRENGTHS = "intake_strengths"
    INTAKE_DESCRIBE = "intake_describe"
    INTAKE_CONTACT = "intake_contact"
    INTAKE_CALLBACK_TIME = "intake_callback_time"
    """Choosing when the los should call: a free slot, any time, or another time."""
    INTAKE_CALLBACK = "intake_callback"
    INTAKE_CONFIRM = "intake_confirm"
    ANON_QUESTION = "anon_question"
    CASE_OPEN = "case_open"
    FEEDBACK = "feedback"
    CONFIRM_DELETE = "confirm_delete"
    OWN_VOICE = "own_voice"
    """Answering the questions the los sent before a meeting (flows/own_voice.py)."""
    TRUSTED_NAME = "trusted_name"
    """An invited person sent a valid code: their first name is asked (flows/trusted.py)."""
    TRUSTED_RULES = "trusted_rules"
    """... then whether they accept the rules of taking part."""
    TRUSTED = "trusted"
    """An invited person in a young person's conversation: their words go to the case."""


@dataclass(frozen=True)
class IntakeDraft:
    """What the citizen has told the intake so far; the description is kept verbatim."""

    about: str | None = None
    age_band: str | None = None
    strengths: str | None = None
    """What the child (or the young person) likes and is good at or proud of, in the
    citizen's own words; asked before the problems, and skippable."""
    description: tuple[str, ...] = ()
    contact: str | None = None
    callback: str | None = None
    callback_when: str | None = None
    """How the call is wanted: "slot", "any" or "other" (flows/callback.py); None as before."""
    callback_slot: str | None = None
    """The chosen slot's start (UTC, ``flows.callback.stamp``), booked when the case is sent."""
    topic: str | None = None
    correcting: bool = False
    worries: tuple[str, ...] = ()
    """Worries the citizen voiced along the way ("confidentiality"): shown to the los."""


@dataclass(frozen=True)
class OwnVoiceRun:
    """The questions a los sent before a meeting, and which one the citizen is at: kept in
    the state, so a restart goes on where it was."""

    request: int
    """The store's id of the questionnaire sent (its answers are recorded under it)."""
    reference: str
    questions: tuple[str, ...]
    thanks: str
    position: int = 0
    """The index of the question asked now."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OwnVoiceRun:
        """Read back what ``asdict`` wrote."""
        return cls(
            request=int(data["request"]),
            reference=str(data["reference"]),
            questions=tuple(str(q) for q in data.get("questions") or ()),
            thanks=str(data.get("thanks") or ""),
            position=int(data.get("position", 0)),
        )


@dataclass(frozen=True)
class ConversationState:
    """The whole state of one conversation; serialisable to JSON."""

    language: str
    phase: Phase = Phase.IDLE
    anonymous: bool = False
    consent_version: str | None = None
    intake: IntakeDraft | None = None
    case_ref: str | None = None
    last_topic: str | None = None
    urgent: bool = False
    resume_phase: Phase | None = None
    turns: int = 0
    offered: tuple[str, ...] = ()
    """The payloads of the choices offered last, in the order they were numbered ..."""
    offered_labels: tuple[str, ...] = ()
    """... and their labels, so that a typed answer can name one."""
    extra: dict[str, str] = field(default_factory=dict)
    own_voice: OwnVoiceRun | None = None
    """The questions before a meeting being answered now (phase OWN_VOICE)."""
    register: Register | None = None
    """The voice this conversation is spoken to in, once chosen (see flows/voice.py)."""

    def to_json(self) -> str:
        """Serialise for the store (as ``asdict`` would, without its deep copies: half the
        cost of a flow step went to them)."""
        return json.dumps(_plain(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str, default_language: str) -> ConversationState:
        """Load a stored state; an unreadable state starts afresh rather than failing."""
        try:
            data: dict[str, Any] = json.loads(raw)
            intake = data.get("intake")
            draft = None
            if isinstance(intake, dict):
                intake["description"] = tuple(intake.get("description") or ())
                intake["worries"] = tuple(intake.get("worries") or ())
                draft = IntakeDraft(**intake)
            resume = data.get("resume_phase")
            voice = data.get("own_voice")
            register = data.get("register")
            return cls(
                language=str(data.get("language") or default_language),
                phase=Phase(data.get("phase", Phase.IDLE)),
                anonymous=bool(data.get("anonymous", False)),
                consent_version=data.get("consent_version"),
                intake=draft,
                case_ref=data.get("case_ref"),
                last_topic=data.get("last_topic"),
                urgent=bool(data.get("urgent", False)),
                resume_phase=Phase(resume) if resume else None,
                turns=int(data.get("turns", 0)),
                offered=tuple(str(p) for p in data.get("offered") or ()),
                offered_labels=tuple(str(p) for p in data.get("offered_labels") or ()),
                extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
                own_voice=OwnVoiceRun.from_dict(voice) if isinstance(voice, dict) else None,
                register=Register(register) if register else None,
            )
        except (ValueError, TypeError, KeyError):
            return cls(language=default_language)

    def evolve(self, **changes: Any) -> ConversationState:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def noting(self, key: str, value: str) -> ConversationState:
        """A copy that remembers ``value`` under ``key`` in ``extra``."""
        return replace(self, extra={**self.extra, key: value})

    def forgetting(self, key: str) -> ConversationState:
        """A copy without ``key`` in ``extra``."""
        return replace(self, extra={k: v for k, v in self.extra.items() if k != key})


def _plain(value: Any) -> Any:
    """``value`` with every dataclass in it a dict of its fields (JSON takes the rest)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
