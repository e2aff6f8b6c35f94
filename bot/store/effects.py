"""Carrying out flow effects inside the router's transaction: a store writer."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.i18n import Catalogs
from bot.notifications import NoticeKind, Notices
from bot.staff import Staffing
from bot.store import attachments, participants
from bot.store.audit import audit
from bot.store.callbacks import SlotTaken, book, booked_for, release_for_cases
from bot.store.cases import case_strengths, description_lines, stored_description
from bot.store.enums import OPEN_STATUSES, CaseStatus, Direction, DocumentType
from bot.store.invitations import revoke_for_conversation
from bot.store.models import (
    Case,
    CaseInvitation,
    CaseNote,
    Consent,
    ConsentText,
    Conversation,
    Message,
    Outbox,
)
from bot.store.own_voice import answered_for, delete_rounds, record_answer, record_progress
from bot.store.unplaced import add_choice, add_note
from flows.callback import WHEN_ANY, chosen_moment
from flows.effects import (
    AppendToCase,
    ClaimInvite,
    CreateInvite,
    DeleteData,
    Effect,
    ExportData,
    JoinCase,
    MarkUrgent,
    NoteUnplaced,
    OpenCase,
    OwnVoiceAnswer,
    OwnVoiceProgress,
    ParticipantSaid,
    RecordConsent,
    RemoveParticipant,
    StoreAttachment,
    StoreFeedback,
    UnplacedChosen,
    WithdrawConsent,
)
from flows.types import N_, Outbound
from flows.when import format_moment
from nlu.crisis import PRIORITY

CHOICE = re.compile(r"^\d{1,2}[.)]?$")
"""A typed choice ("2") on a channel without buttons: not words for the los."""
CONTEXT_WINDOW = timedelta(hours=2)
CONTEXT_MESSAGES = 12
"""At most this many of the citizen's messages before a crisis (and the flagged one) join
the case it opens."""
CASE_STATUS_KEYS = {
    CaseStatus.OPEN: N_("export.status.open"),
    CaseStatus.CLAIMED: N_("export.status.claimed"),
    CaseStatus.CLOSED: N_("export.status.closed"),
    CaseStatus.WITHDRAWN: N_("export.status.withdrawn"),
}


@dataclass(frozen=True)
class EffectRunner:
    """The effects of one handled message, applied inside the step's transaction."""

    message_id: int
    now: datetime
    catalogs: Catalogs
    staffing: Staffing
    notices: Notices
    effects: Sequence[Effect]
    document: tuple[DocumentType, bytes] | None = None
    """The checked file that came with the message, for StoreAttachment (the channel's)."""

    @property
    def joins_case(self) -> str | None:
        """The case the message joins (its ``AppendToCase``): ``Store.save_step`` puts it
        there in the statement that marks it handled, so ``apply`` leaves it alone."""
        return next((e.reference for e in self.effects if isinstance(e, AppendToCase)), None)

    @property
    def applies_any(self) -> bool:
        """Whether ``apply`` has anything to do: an effect other than joining a case."""
        return any(not isinstance(e, AppendToCase) for e in self.effects)

    def apply(self, session: Session, conversation_id: int) -> tuple[tuple[Outbound, ...], bool]:
        """Apply every effect in order but joining a case (``joins_case``); returns the
        extra replies (the data export) and whether the conversation was deleted (after
        DeleteData nothing more is stored). The conversation's row is loaded only for an
        effect that reads or changes it."""
        applier = _Applier(
            session,
            conversation_id,
            self.message_id,
            self.now,
            self.catalogs,
            self.staffing,
            self.notices,
        )
        extra: list[Outbound] = []
        for effect in self.effects:
            if isinstance(effect, StoreAttachment):
                applier.store_attachment(effect, self.document)
                continue
            match effect:
                case RecordConsent():
                    applier.record_consent(effect)
                case WithdrawConsent():
                    applier.withdraw()
                case OpenCase():
                    applier.open_case(effect)
                case AppendToCase():
                    continue  # ``save_step`` joined it as it marked the message handled
                case MarkUrgent():
                    applier.mark_urgent(effect)
                case StoreFeedback():
                    applier.feedback(effect)
                case OwnVoiceAnswer():
                    record_answer(session, conversation_id, self.message_id, effect, self.now)
                case OwnVoiceProgress():
                    record_progress(session, conversation_id, effect, self.now)
                case ExportData():
                    extra.append(
                        export(session, applier.conversation, self.catalogs, effect.timezone)
                    )
                case NoteUnplaced():
                    add_note(session, effect, applier.conversation.area)
                case UnplacedChosen():
                    add_choice(session, effect)
                case CreateInvite():
                    participants.create_invite(session, applier.conversation, effect, self.now)
                case ClaimInvite():
                    participants.claim_invite(
                        session, applier.conversation, effect.invite, self.now
                    )
                case JoinCase():
                    participants.join(
                        session, applier.conversation, effect, self.now, self.catalogs
                    )
                case RemoveParticipant():
                    participants.remove(
                        session, applier.conversation, effect, self.now, self.catalogs
                    )
                case ParticipantSaid():
                    applier.participant_said(effect)
                case DeleteData():
                    delete_conversation(session, applier.conversation, self.now)
                    return tuple(extra), True
        return tuple(extra), False


@dataclass(frozen=True)
class _Applier:
    """Carries out single effects for one message, in one session."""

    session: Session
    conversation_id: int
    message_id: int
    now: datetime
    catalogs: Catalogs
    staffing: Staffing
    notices: Notices

    @cached_property
    def conversation(self) -> Conversation:
        """The conversation's row, loaded when an effect first needs it."""
        return self.session.get_one(Conversation, self.conversation_id)

    def record_consent(self, effect: RecordConsent) -> None:
        text_hash = hashlib.sha256(effect.text.encode()).hexdigest()
        if self.session.get(ConsentText, text_hash) is None:
            self.session.add(
                ConsentText(
                    sha256=text_hash,
                    version=effect.version,
                    language=effect.language,
                    text=effect.text,
                )
            )
            self.session.flush()
        self.session.add(
            Consent(
                conversation_id=self.conversation_id,
                text_sha256=text_hash,
                version=effect.version,
                language=effect.language,
                scope=",".join(effect.scope),
                channel=self.conversation.channel,
                given_at=self.now,
                retention_days=effect.retention_days,
            )
        )

    def withdraw(self) -> None:
        conversation_id = self.conversation_id
        self.session.execute(
            update(Consent)
            .where(Consent.conversation_id == conversation_id, Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=self.now)
        )
        cases = self.session.scalars(
            select(Case).where(
                Case.conversation_id == conversation_id, Case.status.in_(OPEN_STATUSES)
            )
        ).all()
        for case in cases:
            case.status, case.closed_at = CaseStatus.WITHDRAWN, self.now
            case.outcome = "consent withdrawn"
            case.description, case.callback, case.contact = "[]", None, None
            audit(self.session, self.now, "citizen", "consent_withdrawn", case.reference)
            self.session.execute(delete(CaseNote).where(CaseNote.case_id == case.id))
        # The answers before a meeting were its words too; no call is booked for it.
        delete_rounds(self.session, Case.conversation_id == conversation_id)
        release_for_cases(self.session, Case.conversation_id == conversation_id)
        attachments.delete_for_conversation(self.session, conversation_id)
        # Nobody invited by the young person takes part or keeps the case's words.
        participants.forget(
            self.session, select(Case.id).where(Case.conversation_id == conversation_id)
        )
        # No service member invited into any of its cases (open or ended) sees them any more.
        revoke_for_conversation(self.session, conversation_id, self.now)
        # Everything the citizen wrote before goes with it, crisis words included: nothing of
        # a withdrawn case is left to be pulled into (or make urgent) a later one.
        self.session.execute(
            delete(Message).where(
                Message.conversation_id == conversation_id, Message.id != self.message_id
            )
        )
        self.conversation.anonymous = False
        self.conversation.urgent = False

    def open_case(self, effect: OpenCase) -> None:
        draft = effect.draft
        previous = self.session.scalars(
            select(Case)
            .where(
                Case.conversation_id == self.conversation_id,
                Case.status == CaseStatus.CLOSED,
                Case.claimed_by.is_not(None),
            )
            .order_by(Case.closed_at.desc())
        ).first()
        consent = None
        if not effect.anonymous:
            consent = self.session.scalars(
                select(Consent)
                .where(
                    Consent.conversation_id == self.conversation_id,
                    Consent.withdrawn_at.is_(None),
                    Consent.case_reference.is_(None),
                )
                .order_by(Consent.id.desc())
            ).first()
        preferred = None
        if previous is not None and previous.claimed_by in self.staffing.on_duty(
            self.session, self.now
        ):
            preferred = previous.claimed_by
        case = Case(
            reference=effect.reference,
            conversation_id=self.conversation_id,
            channel=self.conversation.channel,
            status=CaseStatus.OPEN,
            urgent=effect.urgent,
            anonymous=effect.anonymous,
            language=effect.language,
            topic=draft.topic,
            consent_scope=None if consent is None else consent.scope,
            about=draft.about,
            age_band=draft.age_band,
            contact=draft.contact,
            callback=draft.callback,
            callback_when=draft.callback_when if draft.contact == "call" else None,
            description=stored_description(draft.description, draft.worries, draft.strengths),
            created_at=self.now,
            preferred_staff=preferred,
            previous_reference=None if previous is None else previous.reference,
            citizen_unread=1,  # the intake itself is the first thing the los reads
            area=self.conversation.area,
        )
        self.session.add(case)
        if effect.with_context:
            self._link_context(case, set(draft.description))
        if consent is not None:
            consent.case_reference = effect.reference
        self.conversation.anonymous = effect.anonymous
        self.conversation.urgent = self.conversation.urgent or effect.urgent
        self.session.flush()
        moment = None if effect.anonymous else chosen_moment(draft)
        if moment is not None:
            try:
                book(self.session, case, moment, self.now)
            except SlotTaken:
                if not effect.with_context:
                    raise  # the step is rolled back and asked again: the next free ones
                case.callback_when = WHEN_ANY  # a case a crisis opened never waits on it
        kind = NoticeKind.URGENT_CASE if case.urgent else NoticeKind.NEW_CASE
        self.notices.raise_notice(self.session, self.now, kind, case.reference, preferred=preferred)

    def _link_context(self, case: Case, described: set[str]) -> None:
        """A case opened by a crisis shows the words that raised the flag and the conversation
        just before them (messages in no other case, from the last ``CONTEXT_WINDOW``), unless
        the words are in the description already."""
        since = self.now - CONTEXT_WINDOW
        earlier = self.session.scalars(
            select(Message)
            .where(
                Message.conversation_id == self.conversation_id,
                Message.direction == Direction.IN,
                Message.case_reference.is_(None),
                Message.created_at >= since,
                Message.id <= self.message_id,
            )
            .order_by(Message.id.desc())
            .limit(CONTEXT_MESSAGES)
        ).all()
        for message in earlier:
            words = message.text.strip()
            if words and not CHOICE.match(words) and words not in described:
                message.case_reference = case.reference

    def store_attachment(
        self, effect: StoreAttachment, document: tuple[DocumentType, bytes] | None
    ) -> None:
        """Keep the file in the citizen's own open case; without bytes (a message recovered
        after a restart) or without such a case nothing is kept."""
        if document is None:
            return
        case = self.session.scalars(select(Case).where(Case.reference == effect.reference)).first()
        if (
            case is None
            or case.conversation_id != self.conversation_id
            or case.status not in OPEN_STATUSES
        ):
            return
        media_type, content = document
        attachments.add(self.session, case, self.message_id, media_type, content, self.now)
        message = self.session.get_one(Message, self.message_id)
        message.case_reference = case.reference
        case.citizen_unread += 1

    def mark_urgent(self, effect: MarkUrgent) -> None:
        self.conversation.urgent = True
        cases = self.session.scalars(
            select(Case).where(
                Case.conversation_id == self.conversation_id, Case.status.in_(OPEN_STATUSES)
            )
        ).all()
        for case in cases:
            case.urgent = True
            case.crisis_category = more_serious(case.crisis_category, effect.category)
            self.notices.raise_notice(
                self.session,
                self.now,
                NoticeKind.CRISIS,
                case.reference,
                claimed_by=case.claimed_by,
            )

    def participant_said(self, effect: ParticipantSaid) -> None:
        """An invited person's words into the case; a crisis in them makes it urgent."""
        case = participants.said(
            self.session, self.conversation, self.message_id, effect, self.now, self.catalogs
        )
        if case is None or effect.crisis_category is None:
            return
        case.urgent = True
        case.crisis_category = more_serious(case.crisis_category, effect.crisis_category)
        self.notices.raise_notice(
            self.session, self.now, NoticeKind.CRISIS, case.reference, claimed_by=case.claimed_by
        )

    def feedback(self, effect: StoreFeedback) -> None:
        case = self.session.scalars(select(Case).where(Case.reference == effect.reference)).first()
        if case is not None and case.conversation_id == self.conversation_id:
            case.feedback_score = effect.score


def more_serious(known: str | None, new: str | None) -> str | None:
    """The more serious of two crisis kinds: a later flag (the model's guess is always "acute
    danger") does not replace "thoughts of suicide" that the lexicon recognised."""
    ranked = [kind for kind in (known, new) if kind in PRIORITY]
    return min(ranked, key=PRIORITY.index) if ranked else known or new


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A stored moment (naive ones are UTC) in the municipality's time zone."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def export(
    session: Session, conversation: Conversation, catalogs: Catalogs, timezone: str = "UTC"
) -> Outbound:
    """A readable account of everything stored about this conversation, its dates and times
    in ``timezone`` (the municipality's)."""
    zone = ZoneInfo(timezone)
    lang = conversation.language
    consents = session.scalars(
        select(Consent).where(Consent.conversation_id == conversation.id)
    ).all()
    cases = session.scalars(select(Case).where(Case.conversation_id == conversation.id)).all()
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
    ).all()
    lines = [
        catalogs(
            "export.header",
            lang,
            handle=conversation.handle,
            since=_local(conversation.created_at, zone).date().isoformat(),
            count=len(messages),
        )
    ]
    for consent in consents:
        status = (
            catalogs(
                "export.consent_withdrawn",
                lang,
                date=_local(consent.withdrawn_at, zone).date().isoformat(),
            )
            if consent.withdrawn_at
            else catalogs("export.consent_active", lang)
        )
        lines.append(
            catalogs(
                "export.consent",
                lang,
                date=_local(consent.given_at, zone).date().isoformat(),
                version=consent.version,
                scope=consent.scope,
                status=status,
            )
        )
    for case in cases:
        words = " / ".join(description_lines(case.description))
        status = catalogs(CASE_STATUS_KEYS.get(case.status, "export.status.open"), lang)
        lines.append(
            catalogs(
                "export.case",
                lang,
                reference=case.reference,
                status=status,
                description=words or "-",
            )
        )
        strengths = case_strengths(case.description)
        if strengths:
            lines.append(catalogs("export.strengths", lang, strengths=strengths))
        call = booked_for(session, case.id)
        if call is not None:
            when = format_moment(call.starts_at, lang, timezone)
            lines.append(catalogs("export.callback", lang, when=when))
    lines.extend(
        participants.exported(
            session,
            conversation.id,
            [case.id for case in cases],
            catalogs,
            lang,
            lambda moment: _local(moment, zone).date().isoformat(),
        )
    )
    for voiced in answered_for(session, [case.id for case in cases], conversation.created_at):
        lines.append(catalogs("export.ownvoice", lang, title=voiced.title))
        lines.extend(
            f"- {a.question}\n  {a.text[:200]}" for a in voiced.answers if a.text is not None
        )
    documents = attachments.count_for_conversation(session, conversation.id)
    if documents:
        lines.append(catalogs("export.documents", lang, count=documents))
    recent = [m for m in messages if m.direction == Direction.IN][-5:]
    if recent:
        lines.append(catalogs("export.recent", lang))
        lines.extend(
            f"- {_local(m.created_at, zone):%Y-%m-%d %H:%M}: {m.text[:200]}" for m in recent
        )
    lines.append(catalogs("export.footer", lang))
    return Outbound("\n".join(lines), lang)


def delete_conversation(session: Session, conversation: Conversation, now: datetime) -> None:
    """Delete the conversation, its messages, documents, cases (with their notes and
    invitations) and outbox; keep consent records unlinked."""
    references = session.scalars(
        select(Case.reference).where(Case.conversation_id == conversation.id)
    ).all()
    session.execute(
        update(Consent)
        .where(Consent.conversation_id == conversation.id)
        .values(
            conversation_id=None,
            erased_at=now,
            withdrawn_at=func.coalesce(Consent.withdrawn_at, now),
        )
    )
    session.execute(delete(Outbox).where(Outbox.conversation_id == conversation.id))
    session.execute(delete(Message).where(Message.conversation_id == conversation.id))
    attachments.delete_for_conversation(session, conversation.id)
    session.execute(
        delete(CaseNote).where(
            CaseNote.case_id.in_(select(Case.id).where(Case.conversation_id == conversation.id))
        )
    )
    session.execute(
        delete(CaseInvitation).where(
            CaseInvitation.case_id.in_(
                select(Case.id).where(Case.conversation_id == conversation.id)
            )
        )
    )
    delete_rounds(session, Case.conversation_id == conversation.id)
    release_for_cases(session, Case.conversation_id == conversation.id)
    participants.forget(session, select(Case.id).where(Case.conversation_id == conversation.id))
    participants.leave_everywhere(session, conversation.id)
    session.execute(delete(Case).where(Case.conversation_id == conversation.id))
    for reference in references:
        audit(session, now, "citizen", "data_deleted", reference)
    session.delete(conversation)
