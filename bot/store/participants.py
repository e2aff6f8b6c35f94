"""Trusted people in a young person's case (*mitt nettverk*) in the store: one-time codes
(their keyed hashes only), who joined with which first name and the rules they accepted,
the los's messages fanned out to them, their words into the case, and their removal.

Everything here runs inside the caller's transaction (the router's step, the queue's reply
or view, erasure). A rule the flow already checked is checked again here, where it is
written: a code is used once (one conditional UPDATE; a lost race raises, and the router's
retry sees the code used), only the young person's own conversation removes from their
case, and only an active participant's words go into it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, select, update
from sqlalchemy.orm import Session

from bot.store.audit import audit
from bot.store.enums import OPEN_STATUSES, Direction, Sender
from bot.store.models import (
    Case,
    CaseParticipant,
    ConsentText,
    Conversation,
    Message,
    Outbox,
    TrustedInvite,
)
from flows.effects import CreateInvite, JoinCase, ParticipantSaid, RemoveParticipant
from flows.trusted import INVITE_KEY, MEMBERS, REMOVE
from flows.trusted_facts import CodeStatus, Joined, Member, TrustedFacts
from flows.types import N_, Button

Translate = Callable[..., str]
BY_YOUNG_PERSON = "young_person"
BY_SELF = "self"


class InviteLost(Exception):
    """The code was used (or ran out) between the look-up and the write: try again."""


@dataclass(frozen=True)
class Participant:
    """Somebody in a case, as the los sees them."""

    id: int
    name: str
    channel: str
    joined_at: datetime
    removed_at: datetime | None
    removed_by: str | None
    conversation_id: int


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def _open_case(session: Session, case_id: int) -> Case | None:
    case = session.get(Case, case_id)
    return case if case is not None and case.status in OPEN_STATUSES else None


def facts_in(
    session: Session,
    conversation_id: int,
    case_ref: str | None,
    extra: dict[str, str],
    typed_hash: str | None,
    now: datetime,
) -> TrustedFacts:
    """What a step may need: who is in the state's case (when it is this conversation's),
    whether this conversation takes part in an open case, the code sent, the invitation
    being joined; read in the step's open session (its other reads share it)."""
    listed: tuple[Member, ...] = ()
    if case_ref is not None:
        case = session.scalars(select(Case).where(Case.reference == case_ref)).first()
        if case is not None and case.conversation_id == conversation_id:
            listed = tuple(
                Member(p.id, p.first_name)
                for p in _active(session, CaseParticipant.case_id == case.id)
            )
    joined = None
    for p in _active(session, CaseParticipant.conversation_id == conversation_id):
        case = _open_case(session, p.case_id)
        if case is not None:
            joined = Joined(p.id, case.reference)
            break
    typed, invite = _typed(session, typed_hash, now) if typed_hash else (None, None)
    claimed_open = False
    held = extra.get(INVITE_KEY, "")
    if held.isdigit():
        row = session.get(TrustedInvite, int(held))
        claimed_open = (
            row is not None
            and row.used_by == conversation_id
            and _open_case(session, row.case_id) is not None
        )
    return TrustedFacts(
        typed=typed, invite=invite, claimed_open=claimed_open, members=listed, joined=joined
    )


def _typed(session: Session, typed_hash: str, now: datetime) -> tuple[CodeStatus, int | None]:
    row = session.scalars(
        select(TrustedInvite).where(TrustedInvite.code_hash == typed_hash)
    ).first()
    if row is None:
        return CodeStatus.UNKNOWN, None
    if row.used_at is not None:
        return CodeStatus.USED, None
    if _aware(row.expires_at, now) <= now or _open_case(session, row.case_id) is None:
        return CodeStatus.EXPIRED, None
    return CodeStatus.VALID, row.id


def _active(session: Session, where: ColumnElement[bool]) -> list[CaseParticipant]:
    return list(
        session.scalars(
            select(CaseParticipant)
            .where(where, CaseParticipant.removed_at.is_(None))
            .order_by(CaseParticipant.joined_at, CaseParticipant.id)
        )
    )


def create_invite(
    session: Session, conversation: Conversation, effect: CreateInvite, now: datetime
) -> None:
    """Keep a new code's hash for the young person's own open case."""
    case = session.scalars(select(Case).where(Case.reference == effect.reference)).first()
    if case is None or case.conversation_id != conversation.id or case.status not in OPEN_STATUSES:
        return
    session.add(
        TrustedInvite(
            case_id=case.id,
            code_hash=effect.code_hash,
            created_at=now,
            expires_at=effect.expires_at,
        )
    )
    audit(session, now, "citizen", "trusted_code", case.reference)


def claim_invite(session: Session, conversation: Conversation, invite: int, now: datetime) -> None:
    """Use the code up for this conversation, once; raises ``InviteLost`` if it is gone."""
    done = session.execute(
        update(TrustedInvite)
        .where(
            TrustedInvite.id == invite,
            TrustedInvite.used_at.is_(None),
            TrustedInvite.expires_at > now,
        )
        .values(used_at=now, used_by=conversation.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise InviteLost(str(invite))


def _outbox(
    session: Session,
    conversation_id: int,
    language: str,
    text: str,
    now: datetime,
    sender: Sender = Sender.BOT,
    buttons: tuple[Button, ...] = (),
) -> None:
    session.add(
        Outbox(
            conversation_id=conversation_id,
            sender=sender,
            text=text,
            buttons=json.dumps([{"label": b.label, "payload": b.payload} for b in buttons]),
            language=language,
            created_at=now,
        )
    )


def join(
    session: Session,
    conversation: Conversation,
    effect: JoinCase,
    now: datetime,
    t: Translate,
) -> None:
    """The invited person accepted: they take part in the case from now on, and the young
    person is told (with the buttons to see who is in and to take them out)."""
    invite = session.get(TrustedInvite, effect.invite)
    if invite is None or invite.used_by != conversation.id:
        raise InviteLost(str(effect.invite))
    case = _open_case(session, invite.case_id)
    if case is None or case.conversation_id is None:
        raise InviteLost(str(effect.invite))
    digest = hashlib.sha256(effect.rules_text.encode()).hexdigest()
    if session.get(ConsentText, digest) is None:
        session.add(
            ConsentText(
                sha256=digest,
                version=effect.rules_version,
                language=effect.language,
                text=effect.rules_text,
            )
        )
    participant = CaseParticipant(
        case_id=case.id,
        invite_id=invite.id,
        conversation_id=conversation.id,
        first_name=effect.name,
        channel=conversation.channel,
        language=effect.language,
        rules_version=effect.rules_version,
        rules_sha256=digest,
        joined_at=now,
    )
    session.add(participant)
    session.flush()
    owner = session.get_one(Conversation, case.conversation_id)
    lang = owner.language
    buttons = (
        Button(t(N_("trusted.button.members"), lang), MEMBERS),
        Button(t(N_("trusted.button.remove"), lang, name=effect.name), f"{REMOVE}{participant.id}"),
    )
    text = t(N_("trusted.joined"), lang, name=effect.name)
    _outbox(session, owner.id, lang, text, now, buttons=buttons)
    audit(session, now, "citizen", "trusted_joined", case.reference, detail=conversation.channel)


def remove(
    session: Session,
    conversation: Conversation,
    effect: RemoveParticipant,
    now: datetime,
    t: Translate,
) -> None:
    """The young person takes somebody out of their case (they are told kindly), or the
    invited person leaves (the young person is told)."""
    row = session.get(CaseParticipant, effect.participant)
    if row is None or row.removed_at is not None:
        return
    case = session.get_one(Case, row.case_id)
    if effect.reference is not None:  # the young person, from their own conversation
        if case.reference != effect.reference or case.conversation_id != conversation.id:
            return
        row.removed_at, row.removed_by = now, BY_YOUNG_PERSON
        other = session.get(Conversation, row.conversation_id)
        if other is not None:
            told = t(N_("trusted.removed.you"), other.language)
            _outbox(session, other.id, other.language, told, now)
        audit(session, now, "citizen", "trusted_removed", case.reference)
        return
    if row.conversation_id != conversation.id:
        return
    row.removed_at, row.removed_by = now, BY_SELF
    if case.conversation_id is not None:
        owner = session.get_one(Conversation, case.conversation_id)
        told = t(N_("trusted.left"), owner.language, name=row.first_name)
        _outbox(session, owner.id, owner.language, told, now)
    audit(session, now, "citizen", "trusted_left", case.reference)


def said(
    session: Session,
    conversation: Conversation,
    message_id: int,
    effect: ParticipantSaid,
    now: datetime,
    t: Translate,
) -> Case | None:
    """An invited person's message goes into the case (marked by who wrote it: the
    participant's conversation) and to the young person, with their first name. Returns
    the case (None when they no longer take part: nothing is passed on)."""
    row = session.get(CaseParticipant, effect.participant)
    if row is None or row.removed_at is not None or row.conversation_id != conversation.id:
        return None
    case = _open_case(session, row.case_id)
    if case is None or case.reference != effect.reference:
        return None
    message = session.get_one(Message, message_id)
    message.case_reference = case.reference
    case.citizen_unread += 1
    if case.conversation_id is not None:
        owner = session.get_one(Conversation, case.conversation_id)
        text = t(N_("trusted.said"), owner.language, name=row.first_name, text=message.text)
        _outbox(session, owner.id, owner.language, text, now, sender=Sender.SYSTEM)
    return case


def fan_out(session: Session, case: Case, text: str, now: datetime) -> int:
    """The los's message to everyone taking part (from now on; never what came before):
    kept in their own conversation and put in its outbox. Returns how many."""
    people = _active(session, CaseParticipant.case_id == case.id)
    for p in people:
        other = session.get(Conversation, p.conversation_id)
        if other is None:
            continue
        session.add(
            Message(
                conversation_id=other.id,
                direction=Direction.OUT,
                sender=Sender.LOS,
                text=text,
                language=other.language,
                created_at=now,
                handled_at=now,
                case_reference=case.reference,
            )
        )
        _outbox(session, other.id, other.language, text, now, sender=Sender.LOS)
    return len(people)


def on_case(session: Session, case_id: int, now: datetime) -> tuple[Participant, ...]:
    """Everyone who took part in the case, in the order they joined (removed ones too)."""
    rows = session.scalars(
        select(CaseParticipant)
        .where(CaseParticipant.case_id == case_id)
        .order_by(CaseParticipant.joined_at, CaseParticipant.id)
    )
    return tuple(
        Participant(
            p.id,
            p.first_name,
            p.channel,
            _aware(p.joined_at, now),
            _aware(p.removed_at, now) if p.removed_at is not None else None,
            p.removed_by,
            p.conversation_id,
        )
        for p in rows
    )


def forget(session: Session, cases: Select[tuple[int]]) -> None:
    """Erase what invited people wrote and got in these cases (their messages live in their
    own conversations), who they were, and the codes: the case is being deleted or its
    consent withdrawn."""
    references = select(Case.reference).where(Case.id.in_(cases))
    people = select(CaseParticipant.conversation_id).where(CaseParticipant.case_id.in_(cases))
    session.execute(
        delete(Message).where(
            Message.conversation_id.in_(people), Message.case_reference.in_(references)
        )
    )
    session.execute(delete(CaseParticipant).where(CaseParticipant.case_id.in_(cases)))
    session.execute(delete(TrustedInvite).where(TrustedInvite.case_id.in_(cases)))


def exported(
    session: Session,
    conversation_id: int,
    case_ids: list[int],
    t: Translate,
    language: str,
    day: Callable[[datetime], str],
) -> list[str]:
    """The lines of "mine data" about trusted people: whom the young person invited (still
    in), and whose conversation this one takes part in, as whom and since when."""
    lines = []
    invited = _active(session, CaseParticipant.case_id.in_(case_ids)) if case_ids else []
    if invited:
        names = ", ".join(p.first_name for p in invited)
        lines.append(t(N_("export.trusted.invited"), language, names=names))
    for p in _active(session, CaseParticipant.conversation_id == conversation_id):
        lines.append(
            t(N_("export.trusted.member"), language, name=p.first_name, date=day(p.joined_at))
        )
    return lines


def leave_everywhere(session: Session, conversation_id: int) -> None:
    """The invited person's own data is deleted: they take part nowhere any more."""
    session.execute(
        delete(CaseParticipant).where(CaseParticipant.conversation_id == conversation_id)
    )
