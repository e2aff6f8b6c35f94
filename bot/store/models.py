"""SQLAlchemy models. Message text lives only in `messages` (and, masked, in `unplaced_notes`),
never in logs or the audit."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.crypto import EncryptedText
from bot.store.enums import CaseStatus, Direction, DocumentType, Sender, enum_column
from flows.effects import OwnVoiceOutcome, UnplacedReason


class Base(DeclarativeBase):
    """Declarative base for every table."""


class Conversation(Base):
    """One citizen on one channel. The platform id is kept only as a keyed hash."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address_hash", name="uq_conversation_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    address_hash: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    state_json: Mapped[str] = mapped_column(EncryptedText("conversations.state_json"), default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped by every saved step: a step computed on an older state is not saved (another
    process moved the conversation on), so messages are handled one at a time, in order."""
    push_address: Mapped[str | None] = mapped_column(
        EncryptedText("conversations.push_address"), nullable=True
    )
    """The platform address to push los replies to (a chat id, a phone number), so a
    restart never holds a reply back."""
    area: Mapped[str] = mapped_column(String(32), default="default", server_default="default")
    """The area (municipality) the conversation came in through; it never changes."""
    los_typing_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    """The los is writing a reply (the console says so while she types): the web chat shows
    it until then. Cleared when her reply is sent."""


class Message(Base):
    """Every inbound message is recorded first; `handled_at` is set when its effects commit."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "external_id", name="uq_message_external"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_unhandled", "conversation_id", "handled_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, 5))
    sender: Mapped[Sender] = mapped_column(enum_column(Sender, 16))
    text: Mapped[str] = mapped_column(EncryptedText("messages.text"))
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(48), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)
    crisis_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    crisis_lexicon: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The crisis lexicon version whose pattern matched, or "model" for the model's intent."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    case_reference: Mapped[str | None] = mapped_column(String(16), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reply_to: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """For a bot reply: the inbound message it answers."""
    buttons: Mapped[str | None] = mapped_column(Text, nullable=True)
    """For a bot reply: its buttons as JSON [{"label", "payload"}]."""
    button: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """For an inbound message: the payload of the button pressed (so a recovered press is a
    press); for an event: what happened ("case_closed")."""
    media: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hint: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """The platform's language hint (Telegram language_code, the browser's language)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The kind of error its handling last raised (an exception class name, never text)."""


class Case(Base):
    """A situation handed to the familielos queue. The description is the citizen's own words."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "status", "urgent", "created_at"),
        Index("ix_cases_area", "area"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, 16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    crisis_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    consent_scope: Mapped[str | None] = mapped_column(String(200), nullable=True)
    about: Mapped[str | None] = mapped_column(String(16), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    contact: Mapped[str | None] = mapped_column(EncryptedText("cases.contact"), nullable=True)
    callback: Mapped[str | None] = mapped_column(EncryptedText("cases.callback"), nullable=True)
    callback_when: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """How the family wants the call: "slot" (a booked time: ``callback_slots``), "any" (any
    time in opening hours) or "other" (their own words in ``callback``); None otherwise."""
    description: Mapped[str] = mapped_column(EncryptedText("cases.description"), default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    preferred_staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_reference: Mapped[str | None] = mapped_column(String(16), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)
    feedback_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    citizen_unread: Mapped[int] = mapped_column(Integer, default=0)
    area: Mapped[str] = mapped_column(String(32), default="default", server_default="default")
    """Its conversation's area: who may see it, whose figures it counts in."""


class CaseNote(Base):
    """A note in a case's log (stafettlogg): staff writing to staff, never sent to the
    citizen. Deleted with its case (retention, erasure, withdrawal of consent)."""

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(EncryptedText("case_notes.text"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredAttachment(Base):
    """A photo or PDF the family sent into an open case (a letter from school, NAV, a
    doctor): the bytes encrypted (base64 in an encrypted column, so key rotation covers
    them), the type as the first bytes told it. Deleted with the case and the conversation
    (retention, erasure, withdrawal of consent)."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_case", "case_id", "id"),
        {"info": {"reencrypt_batch": 4}},  # up to ~14 MB each: a few per transaction
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The inbound message the file came with."""
    media_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType, 32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(EncryptedText("attachments.content"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseInvitation(Base):
    """A service member invited into a case by the los (familieteam): while not revoked they
    may read the case and write notes in its log. One row per case and member: inviting
    again after a revocation opens it again. Revoked when the citizen withdraws consent;
    deleted with its case (retention, erasure)."""

    __tablename__ = "case_invitations"
    __table_args__ = (
        UniqueConstraint("case_id", "staff_id", name="uq_case_invitation_member"),
        Index("ix_case_invitations_member", "staff_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    staff_id: Mapped[str] = mapped_column(String(64))
    """The invited service member's staff id."""
    service: Mapped[str] = mapped_column(String(32))
    """Their service (ppt, barnevern, ...) when invited."""
    invited_by: Mapped[str] = mapped_column(String(64))
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Outbox(Base):
    """Messages waiting to reach a citizen outside a reply (los replies, read receipts)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "conversation_id", "delivered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[Sender] = mapped_column(enum_column(Sender, 16))
    text: Mapped[str] = mapped_column(EncryptedText("outbox.text"))
    buttons: Mapped[str] = mapped_column(Text, default="[]")
    reply_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The inbound message (or event) this answers, when it is a reply nobody waited for."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    short: Mapped[str | None] = mapped_column(EncryptedText("outbox.short"), nullable=True)
    """The message's short form for channels that count characters (a crisis answer on SMS)."""
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The delivery that is sending this message now (one process at a time) ..."""
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """... until then; a claim left by a crashed process runs out and another takes over."""


class ConsentText(Base):
    """The exact consent text shown, by its hash: a consent record names the one it agreed to."""

    __tablename__ = "consent_texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)


class Consent(Base):
    """A consent given. On deletion the link to the person is erased; the record stays."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    case_reference: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text_sha256: Mapped[str] = mapped_column(ForeignKey("consent_texts.sha256"))
    version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The days after closing that the consent text promised to keep the case (None: before
    this was recorded; retention then uses the configured days)."""


class AuditEntry(Base):
    """Who did what to which case, when. Never any message text."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    case_reference: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)


class StaffDuty(Base):
    """A staff member's own on/off duty switch (overrides the roster for that day)."""

    __tablename__ = "staff_duty"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_duty: Mapped[bool] = mapped_column(Boolean)
    day: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffNotification(Base):
    """A notice to a staff member: a new case for them, an escalation, an urgent message."""

    __tablename__ = "staff_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    case_reference: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deliveries_planned_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    """When the dispatcher planned its e-mail and SMS deliveries (None: not yet)."""


class StaffCredential(Base):
    """A staff member's own console password, as a salted scrypt hash (never the password)."""

    __tablename__ = "staff_credentials"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliveryTransport(StrEnum):
    """How a staff notice is delivered."""

    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(StrEnum):
    """Where a delivery stands: waiting (or retrying), done, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class NotificationDelivery(Base):
    """One staff notice on its way to one address by one transport. Never any text: the
    notice is composed from the catalogs when it is sent; ``last_error_kind`` is an exception
    class name or an HTTP/SMTP status, never a message."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "transport", "target", name="uq_delivery_target"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("staff_notifications.id", ondelete="CASCADE"), index=True
    )
    transport: Mapped[str] = mapped_column(String(8))  # DeliveryTransport
    target: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(8), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """A dispatcher sending it holds it until then; after, another may take it over."""
    last_error_kind: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffToken(Base):
    """A staff member's personal token for the command line, as its SHA-256 (never the
    token): who runs `inngang queue ... --as kari` must hold kari's token. One per staff
    member; issuing a new one replaces it."""

    __tablename__ = "staff_tokens"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StaffAccount(Base):
    """A staff member who may sign in: the roster in config.yml seeds these, `inngang staff
    add` adds more, `inngang staff disable` ends one (kept, so the audit log's names stay
    readable). The password is in ``staff_credentials``."""

    __tablename__ = "staff_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    """los, leader, service, admin (bot.staff.Role)."""
    service: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    """Where their notices go by e-mail (none: the console only)."""
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Where urgent notices also go by SMS (none: no SMS)."""
    area: Mapped[str] = mapped_column(String(32), default="default", server_default="default")
    """The area whose cases the account sees (``all``: every area's)."""


class StaffSession(Base):
    """A signed-in browser: only the SHA-256 of the random session id in its cookie is kept,
    so a copy of the database signs nobody in."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    with_start_password: Mapped[bool] = mapped_column(Boolean, default=False)
    """Signed in with this run's start password (the console asks them to set their own)."""


class SavedAnswer(Base):
    """A reply a los can insert and edit before sending (per language; a leader keeps the
    list). Written by staff for any citizen, so it holds no citizen data."""

    __tablename__ = "saved_answers"
    __table_args__ = (Index("ix_saved_answers_language", "language", "title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OwnVoiceSet(Base):
    """A set of questions a los sends before a meeting ("Før møtet"), per language; a
    leader keeps them. Staff-written, no citizen data. ``questions`` is a JSON list."""

    __tablename__ = "own_voice_sets"
    __table_args__ = (Index("ix_own_voice_sets_language", "language", "title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    intro: Mapped[str] = mapped_column(Text)
    questions: Mapped[str] = mapped_column(Text, default="[]")
    thanks: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OwnVoiceRound(Base):
    """Questions a los sent to the citizen of a case before a meeting: the set's texts as
    sent (a later edit of the set does not change them), when, by whom, the meeting's time
    and how it went. Deleted with its case."""

    __tablename__ = "own_voice_rounds"
    __table_args__ = (Index("ix_own_voice_rounds_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    questions: Mapped[str] = mapped_column(Text, default="[]")
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    meeting_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[OwnVoiceOutcome] = mapped_column(enum_column(OwnVoiceOutcome, 16))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OwnVoiceAnswerRecord(Base):
    """One question of a round answered (the citizen's message, which holds the words and
    belongs to the case) or skipped (no message). Deleted with its round."""

    __tablename__ = "own_voice_answers"
    __table_args__ = (UniqueConstraint("round_id", "position", name="uq_own_voice_answer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("own_voice_rounds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JobRun(Base):
    """When a scheduled job last ran, by any process (bot/store/jobs.py)."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnplacedNote(Base):
    """A message the bot could not place, masked (``nlu.masking``), for the content editors.
    No conversation id, no time of day: nothing leads back to the citizen. ``choice_token``
    (random) is set until the citizen answers the choice, or a day passes."""

    __tablename__ = "unplaced_notes"
    __table_args__ = (Index("ix_unplaced_notes_day", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    """The municipality's local date the message came."""
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[UnplacedReason] = mapped_column(enum_column(UnplacedReason, 16))
    guessed: Mapped[str | None] = mapped_column(String(32), nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    chosen: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(EncryptedText("unplaced_notes.text"))
    choice_token: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    area: Mapped[str] = mapped_column(String(32), default="default", server_default="default")


class ContentChange(Base):
    """One change a leader or admin made to the service content (bot/store/content.py): a
    service text in one language and register, a contact detail of a service, or the
    opening hours of one weekday. Append-only: the newest row per key is in force; a row
    without ``value`` resets the key to its default (the catalogs, config.yml). Staff-written
    content, no citizen data."""

    __tablename__ = "content_changes"
    __table_args__ = (Index("ix_content_changes_key", "kind", "service", "field", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``text``, ``contact`` or ``hours``."""
    service: Mapped[str] = mapped_column(String(32), default="")
    """The service id ("" for the opening hours)."""
    field: Mapped[str] = mapped_column(String(32))
    """A text (``what``, ``next``, ``sms``, ``next.sms``), a contact detail (``phone``, ...)
    or a weekday (``monday``, ...)."""
    language: Mapped[str] = mapped_column(String(8), default="")
    register: Mapped[str] = mapped_column(String(8), default="")
    area: Mapped[str] = mapped_column(String(32), default="default", server_default="default")
    """The area the change is for (its overlay of config.yml underneath)."""
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous: Mapped[str | None] = mapped_column(Text, nullable=True)
    """What was in force before (None: the default)."""
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContentRevision(Base):
    """One row: a counter every content change moves on, so each replica learns of a change
    by reading one number (at most every couple of seconds), never the changes themselves."""

    __tablename__ = "content_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CallbackSlot(Base):
    """A time a los (or the roster) can call a family back: at most one call. ``owner`` is
    the staff id who published it ("" when generated from the opening hours and roster).
    A booked slot holds the case (never the citizen's number: that stays in the case);
    deleted ``callbacks.keep_days`` after its time, and freed when its case goes."""

    __tablename__ = "callback_slots"
    __table_args__ = (
        UniqueConstraint("starts_at", "owner", "area", name="uq_callback_slot"),
        Index("ix_callback_slots_case", "case_id"),
        Index("ix_callback_slots_area", "area", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
    )
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area: Mapped[str] = mapped_column(String(32), default="default", server_default="default")
    """The area whose families are offered it and whose staff act on it."""


class TrustedInvite(Base):
    """A one-time code a young person asked for to bring someone into their case (*mitt
    nettverk*): only its keyed hash is kept, valid until ``expires_at`` and used once (by
    the conversation that sent it). Deleted with its case."""

    __tablename__ = "trusted_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    used_by: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    """The conversation that sent the code (the invited person's own)."""


class CaseParticipant(Base):
    """A friend or trusted adult in a young person's case: their own conversation (its
    platform id only as the conversations' keyed hash), a first name (encrypted), the rules
    they accepted (by version and the text's SHA-256, the text in ``consent_texts``), and
    since when. Removed by the young person or leaving themselves; deleted with the case or
    with either conversation."""

    __tablename__ = "case_participants"
    __table_args__ = (
        Index("ix_case_participants_case", "case_id", "removed_at"),
        Index("ix_case_participants_conversation", "conversation_id", "removed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    invite_id: Mapped[int | None] = mapped_column(
        ForeignKey("trusted_invites.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(EncryptedText("case_participants.first_name"))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    rules_version: Mapped[str] = mapped_column(String(32))
    rules_sha256: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """Who ended it: "young_person" or "self"."""
