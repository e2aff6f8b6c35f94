"""Familieteam in the store: the los invites service members into a case, and removes them.

The rules that need the case live here, checked in the transaction that writes: the case
must be open or claimed, not anonymous, and its consent must cover the services
(``familielos+services``); only the los who holds it (or a leader) invites or removes. Who
the invitee is (an active service account) is the queue's to check. Every change is
audited (who, whom, which service; never any text). Withdrawn consent revokes them all, in
the citizen's own transaction (``revoke_for_conversation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.notifications import NoticeKind, Notices
from bot.store.audit import audit
from bot.store.enums import OPEN_STATUSES, CaseStatus
from bot.store.models import Case, CaseInvitation
from bot.store.queue_repo import QueueError
from flows.intake import SCOPE_SERVICES


class InviteRefusal(StrEnum):
    """Why an invitation (or its removal) was not done."""

    NO_CASE = "no_case"
    ENDED = "ended"
    """The case is closed, or the citizen withdrew consent."""
    ANONYMOUS = "anonymous"
    """Asked anonymously: no consent to share with anybody."""
    LOS_ONLY = "los_only"
    """The consent covers the familielos only, not the services."""
    NOT_HOLDER = "not_holder"
    """Only the los who holds the case (or a leader) brings services in."""
    NOT_SERVICE = "not_service"
    """The one named is no active service member (of that service)."""
    NO_MEMBER = "no_member"
    """The service has no active member to invite."""
    WHICH_MEMBER = "which_member"
    """The service has several active members: say which."""
    NOT_INVITED = "not_invited"
    """Removing somebody who is not invited."""


class InviteRefused(QueueError):
    """An invitation not done, with the reason the console says in the staff language."""

    def __init__(self, reason: InviteRefusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class InvitedCase:
    """A case a service member is invited to, as their list shows it (no citizen text)."""

    reference: str
    status: CaseStatus
    topic: str | None
    urgent: bool
    holder: str | None
    """The los who holds it (None while nobody has taken it)."""
    service: str
    invited_by: str
    invited_at: datetime


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def _case(session: Session, reference: str) -> Case:
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise InviteRefused(InviteRefusal.NO_CASE, f"no case {reference}")
    return case


def _holder_or_leader(case: Case, staff_id: str, leader: bool) -> None:
    if leader or (case.status == CaseStatus.CLAIMED and case.claimed_by == staff_id):
        return
    raise InviteRefused(
        InviteRefusal.NOT_HOLDER,
        f"{case.reference} is not claimed by {staff_id}: only the los who holds the case "
        "(or a leader) brings services in; claim it first",
    )


def refusal_of_case(case: Case) -> InviteRefused | None:
    """Why nobody may be invited into this case now, or None when somebody may be."""
    if case.status not in OPEN_STATUSES:
        return InviteRefused(
            InviteRefusal.ENDED, f"{case.reference} is {case.status}: nobody can be invited"
        )
    if case.anonymous:
        return InviteRefused(
            InviteRefusal.ANONYMOUS,
            f"{case.reference} was asked anonymously: there is no consent to share it",
        )
    if case.consent_scope != SCOPE_SERVICES:
        return InviteRefused(
            InviteRefusal.LOS_ONLY,
            f"the consent for {case.reference} covers the familielos only, not the services: "
            "ask the family to consent to sharing with the services first",
        )
    return None


class InvitationRepo:
    """Invitations into cases. Methods are synchronous (one transaction each)."""

    def __init__(self, sessions: sessionmaker[Session], notices: Notices) -> None:
        self.sessions = sessions
        self.notices = notices
        """The invited member is told (``NoticeKind.INVITED``), in the invitation's
        transaction."""

    def refusal(self, reference: str) -> InviteRefused | None:
        """Why nobody may be invited into the case now (None: somebody may). Reads only."""
        with self.sessions() as session:
            case = session.scalars(select(Case).where(Case.reference == reference)).first()
            if case is None:
                return InviteRefused(InviteRefusal.NO_CASE, f"no case {reference}")
            return refusal_of_case(case)

    def invite(
        self,
        reference: str,
        staff_id: str,
        member: str,
        service: str,
        now: datetime,
        *,
        leader: bool = False,
    ) -> bool:
        """Invite ``member`` (of ``service``) into the case; False when they were invited
        already (nothing changes). Refused (InviteRefused) as the module says."""
        try:
            with self.sessions.begin() as session:
                case = _case(session, reference)
                refused = refusal_of_case(case)
                if refused is not None:
                    raise refused
                _holder_or_leader(case, staff_id, leader)
                row = session.scalars(
                    select(CaseInvitation).where(
                        CaseInvitation.case_id == case.id, CaseInvitation.staff_id == member
                    )
                ).first()
                if row is not None and row.revoked_at is None:
                    return False
                if row is None:
                    session.add(
                        CaseInvitation(
                            case_id=case.id,
                            staff_id=member,
                            service=service,
                            invited_by=staff_id,
                            invited_at=now,
                        )
                    )
                else:
                    row.service, row.invited_by = service, staff_id
                    row.invited_at, row.revoked_at = now, None
                audit(session, now, staff_id, "invite", reference, f"{member} ({service})")
                self.notices.raise_notice(session, now, NoticeKind.INVITED, reference, to=member)
        except IntegrityError:
            return False  # a colleague invited the same member at the same moment
        return True

    def uninvite(
        self, reference: str, staff_id: str, member: str, now: datetime, *, leader: bool = False
    ) -> None:
        """Remove ``member``'s invitation: they no longer see the case (their notes stay)."""
        with self.sessions.begin() as session:
            case = _case(session, reference)
            if not leader and case.claimed_by != staff_id:  # a closed case: who had it
                _holder_or_leader(case, staff_id, leader)
            row = session.scalars(
                select(CaseInvitation).where(
                    CaseInvitation.case_id == case.id,
                    CaseInvitation.staff_id == member,
                    CaseInvitation.revoked_at.is_(None),
                )
            ).first()
            if row is None:
                raise InviteRefused(
                    InviteRefusal.NOT_INVITED, f"{member} is not invited to {reference}"
                )
            row.revoked_at = now
            audit(session, now, staff_id, "uninvite", reference, f"{member} ({row.service})")

    def invited_cases(self, staff_id: str, now: datetime) -> list[InvitedCase]:
        """The cases the service member is invited to now, newest invitation first
        (audited: who listed how many)."""
        with self.sessions.begin() as session:
            rows = session.execute(
                select(Case, CaseInvitation)
                .join(CaseInvitation, CaseInvitation.case_id == Case.id)
                .where(CaseInvitation.staff_id == staff_id, CaseInvitation.revoked_at.is_(None))
                .order_by(CaseInvitation.invited_at.desc(), CaseInvitation.id.desc())
            ).all()
            audit(session, now, staff_id, "list_invited", detail=f"{len(rows)} cases")
            return [
                InvitedCase(
                    case.reference,
                    CaseStatus(case.status),
                    case.topic,
                    bool(case.urgent),
                    case.claimed_by if case.status == CaseStatus.CLAIMED else None,
                    invitation.service,
                    invitation.invited_by,
                    _aware(invitation.invited_at, now),
                )
                for case, invitation in rows
            ]


def revoke_for_conversation(session: Session, conversation_id: int, now: datetime) -> int:
    """Consent withdrawn: every invitation into the conversation's cases (open or ended) is
    revoked at once, in the caller's transaction; audited per case. How many were revoked."""
    rows = session.execute(
        select(CaseInvitation, Case.reference)
        .join(Case, CaseInvitation.case_id == Case.id)
        .where(Case.conversation_id == conversation_id, CaseInvitation.revoked_at.is_(None))
        .order_by(Case.reference)
    ).all()
    per_case: dict[str, int] = {}
    for invitation, reference in rows:
        invitation.revoked_at = now
        per_case[reference] = per_case.get(reference, 0) + 1
    for reference, count in per_case.items():
        audit(session, now, "citizen", "invitations_revoked", reference, f"{count} members")
    return len(rows)
