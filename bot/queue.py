"""The on-duty familielos queue: list, read, claim, reply, transfer, close, escalate; and
the familieteam: service members invited into a case read it and write notes, nothing else.

Every staff action is written to the audit log (who, what, which case; never text). The
rules live here (who may act, when a case is due for escalation, the read receipt's text);
the store (``bot/store/queue_repo.py``) keeps the cases. The methods are synchronous:
``async`` callers run them on a thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from bot.clock import Clock
from bot.i18n import Catalogs
from bot.settings import ALL_AREAS, Settings
from bot.staff import NotPermitted, Permission, Role, Staffing, UnknownStaff, may
from bot.store.accounts import Account
from bot.store.archive_repo import ArchiveRepo, CaseRecord
from bot.store.attachments import AttachmentFile
from bot.store.invitations import (
    InvitationRepo,
    InvitedCase,
    InviteRefusal,
    InviteRefused,
)
from bot.store.queue_repo import (
    MAX_NOTE,
    AreaRefused,
    CaseMessage,
    CaseView,
    Invitation,
    Note,
    QueueError,
    QueueItem,
    QueueRepo,
)
from flows.types import N_

__all__ = [
    "AreaRefused",
    "CaseMessage",
    "CaseRecord",
    "CaseView",
    "Invitation",
    "InviteRefusal",
    "InviteRefused",
    "InvitedCase",
    "Note",
    "Queue",
    "QueueError",
    "QueueItem",
]

T = TypeVar("T")

LOS_TYPING_SHOWN = timedelta(seconds=6)
"""How long one "the los is typing" from the console shows in the citizen's chat (the
console sends it again every few seconds while she types)."""


class Queue:
    """Staff-side operations on cases."""

    def __init__(
        self,
        settings: Settings,
        cases: QueueRepo,
        catalogs: Catalogs,
        staffing: Staffing,
        clock: Clock,
        invitations: InvitationRepo,
        archive: ArchiveRepo,
    ) -> None:
        self.settings = settings
        self.cases = cases
        self.catalogs = catalogs
        self.staffing = staffing
        self.clock = clock
        self.invitations = invitations
        self.archive = archive

    def _permitted(self, staff_id: str, permission: Permission) -> Account:
        try:
            return self.staffing.require_permission(staff_id, permission)
        except NotPermitted as error:
            raise QueueError(str(error)) from None

    def _worker(self, staff_id: str) -> str:
        """The id if it names an active account whose role works the queue: else
        UnknownStaff, or QueueError saying the role may not."""
        try:
            return self.staffing.require_permission(staff_id, Permission.WORK_QUEUE).id
        except NotPermitted as error:
            raise QueueError(str(error)) from None

    def check_area(self, reference: str, staff_id: str) -> None:
        """With areas: the case must be of the staff member's area (or they of all);
        else AreaRefused, audited. Without areas there is nothing to check."""
        if not self.settings.areas:
            return
        account = self.staffing.account(staff_id)
        self.cases.require_area(reference, account.id, account.area, self.clock())

    def area_of(self, staff_id: str) -> str:
        """The area whose cases this staff member sees (``all`` without areas)."""
        if not self.settings.areas:
            return ALL_AREAS
        return self.staffing.account(staff_id).area

    def visible(self, staff_id: str, references: list[str]) -> set[str]:
        """Which of these cases the staff member's area lets them see."""
        own = self.area_of(staff_id)
        if own == ALL_AREAS:
            return set(references)
        found = self.cases.areas_of(references)
        return {r for r in references if found.get(r, own) == own}

    def open_cases(self, staff_id: str, area: str | None = None) -> list[QueueItem]:
        """Open and claimed cases of the staff member's area (one ``area`` of it, for staff
        of all): urgent first, then by waiting time."""
        self._worker(staff_id)
        return self.cases.open_cases(staff_id, self.clock(), area=self._shown(staff_id, area))

    def live(self, staff_id: str, area: str | None = None) -> list[QueueItem]:
        """The open cases for the console's live queue: the same list, but read only (not
        audited: it shows no citizen text, and the queue page it updates was)."""
        self._worker(staff_id)
        return self.cases.open_cases(
            staff_id, self.clock(), audited=False, area=self._shown(staff_id, area)
        )

    def _shown(self, staff_id: str, area: str | None) -> str:
        own = self.area_of(staff_id)
        return area if own == ALL_AREAS and area is not None else own

    def claim(self, reference: str, staff_id: str) -> bool:
        """Take an open case; of two staff claiming at once one wins."""
        self._worker(staff_id)
        self.check_area(reference, staff_id)
        return self.cases.claim(reference, staff_id, self.clock())

    def _reader(self, staff_id: str) -> tuple[str, bool]:
        """The id of who reads cases, and whether only those they are invited to (a service
        member); else UnknownStaff, or QueueError saying the role may not."""
        account = self.staffing.account(staff_id)
        if may(account.role, Permission.WORK_QUEUE):
            return account.id, False
        if may(account.role, Permission.SEE_INVITED):
            return account.id, True
        raise QueueError(f"{staff_id} ({account.role}) may not {Permission.WORK_QUEUE.value}")

    def view(self, reference: str, staff_id: str) -> CaseView:
        """Read a case (audited). Nothing else changes: ``mark_read`` tells the citizen. A
        service member reads only a case they are invited to: any other is "no case"."""
        reader, invited_only = self._reader(staff_id)
        if not invited_only:  # an invitation is the service member's way in, any area
            self.check_area(reference, staff_id)
        return self.cases.view(reference, reader, self.clock(), invited_only=invited_only)

    def read_document(self, reference: str, attachment_id: int, staff_id: str) -> AttachmentFile:
        """A document the family sent into the case, for whoever may read the case
        (audited)."""
        reader, invited_only = self._reader(staff_id)
        if not invited_only:
            self.check_area(reference, staff_id)
        return self.cases.read_document(
            reference, attachment_id, reader, self.clock(), invited_only=invited_only
        )

    def mark_read(self, reference: str, staff_id: str) -> bool:
        """The los who has the case has read it: the citizen is told their messages have
        been read. Whether there was anything unread to mark."""
        self._worker(staff_id)
        self.check_area(reference, staff_id)
        return self.cases.mark_read(reference, staff_id, self._receipt, self.clock())

    def _receipt(self, language: str) -> str:
        return self.catalogs(N_("case.read_receipt"), language)

    def reply(self, reference: str, staff_id: str, text: str) -> None:
        """Send a los message to the citizen through their own channel."""
        self._worker(staff_id)
        self.check_area(reference, staff_id)
        text = text.strip()
        if not text:
            raise QueueError("empty reply")
        self.cases.reply(reference, staff_id, text, self.clock())

    def typing(self, reference: str, staff_id: str) -> None:
        """The los holding the case is writing a reply: the citizen's chat shows it for the
        next few seconds (the console says so again while she goes on typing)."""
        self._worker(staff_id)
        now = self.clock()
        self.cases.typing(reference, staff_id, now + LOS_TYPING_SHOWN)

    def add_note(self, reference: str, staff_id: str, text: str) -> None:
        """Write a note in the case log (stafettlogg): for colleagues, never sent to the
        citizen. Audited without its text. Who may: ``Permission.ADD_NOTE``."""
        author = self._permitted(staff_id, Permission.ADD_NOTE)
        text = text.strip()
        if not text:
            raise QueueError("empty note")
        if len(text) > MAX_NOTE:
            raise QueueError(f"a note is at most {MAX_NOTE} characters")
        invited_only = not may(author.role, Permission.WORK_QUEUE)
        if not invited_only:
            self.check_area(reference, staff_id)
        self.cases.add_note(reference, author.id, text, self.clock(), invited_only=invited_only)

    # --- the familieteam: service members invited into a case -----------------------------

    def _inviter(self, staff_id: str) -> tuple[str, bool]:
        """Who brings services in, and whether a leader (any case); else QueueError."""
        try:
            account = self.staffing.require_permission(staff_id, Permission.INVITE)
        except NotPermitted as error:
            raise QueueError(str(error)) from None
        return account.id, account.role == Role.LEADER

    def invitee(self, *, member: str | None = None, service: str | None = None) -> Account:
        """The service member to invite: ``member`` (of ``service``, when given), or the one
        active member of ``service``. InviteRefused when there is none, or several."""
        if service is not None and service not in self.settings.service_ids:
            raise QueueError(
                f"unknown service {service}: one of {', '.join(self.settings.service_ids)}"
            )
        if member is not None:
            try:
                account = self.staffing.account(member)
            except UnknownStaff:
                account = None
            if account is None or not may(account.role, Permission.SEE_INVITED):
                raise InviteRefused(
                    InviteRefusal.NOT_SERVICE, f"{member} is not an active service member"
                )
            if service is not None and account.service != service:
                raise InviteRefused(
                    InviteRefusal.NOT_SERVICE, f"{member} is not a member of {service}"
                )
            return account
        if service is None:
            raise QueueError("say whom to invite: --service, and --member when it has several")
        members = self.staffing.service_members(service)
        if not members:
            raise InviteRefused(
                InviteRefusal.NO_MEMBER, f"{service} has no active member to invite"
            )
        if len(members) > 1:
            raise InviteRefused(
                InviteRefusal.WHICH_MEMBER,
                f"{service} has {len(members)} active members "
                f"({', '.join(a.id for a in members)}): say which with --member",
            )
        return members[0]

    def invite(self, reference: str, staff_id: str, member: Account) -> bool:
        """Bring a service member into a case (audited). Only the los who holds it, or a
        leader; only when its consent covers the services, it is not anonymous and not
        ended (InviteRefused says why). False when they were invited already."""
        inviter, leader = self._inviter(staff_id)
        self.check_area(reference, staff_id)
        if not may(member.role, Permission.SEE_INVITED) or member.service is None:
            raise InviteRefused(
                InviteRefusal.NOT_SERVICE, f"{member.id} is not an active service member"
            )
        return self.invitations.invite(
            reference, inviter, member.id, member.service, self.clock(), leader=leader
        )

    def uninvite(self, reference: str, staff_id: str, member: str) -> None:
        """Take a service member out of a case (audited): they no longer see it."""
        remover, leader = self._inviter(staff_id)
        self.check_area(reference, staff_id)
        self.invitations.uninvite(reference, remover, member, self.clock(), leader=leader)

    def invite_refusal(self, reference: str) -> InviteRefused | None:
        """Why nobody can be invited into the case now (its consent, its state), or None."""
        return self.invitations.refusal(reference)

    def invited_cases(self, staff_id: str) -> list[InvitedCase]:
        """The cases a service member is invited to (audited)."""
        member = self._permitted(staff_id, Permission.SEE_INVITED)
        return self.invitations.invited_cases(member.id, self.clock())

    def transfer(self, reference: str, staff_id: str, to_staff: str) -> None:
        """Hand a claimed case to a colleague."""
        self._worker(staff_id)
        self._worker(to_staff)
        self.check_area(reference, staff_id)
        self.check_area(reference, to_staff)
        self.cases.transfer(reference, staff_id, to_staff, self.clock())

    def close(self, reference: str, staff_id: str, outcome: str) -> None:
        """Close with an outcome. The conversation gets an event: the router (the one writer
        of conversation state) then asks the citizen for feedback (1-5)."""
        self._worker(staff_id)
        self.check_area(reference, staff_id)
        self.cases.close(reference, staff_id, outcome.strip(), self.clock())

    def export(
        self, reference: str, staff_id: str, build: Callable[[CaseRecord], tuple[T, str]]
    ) -> T:
        """Make the archive copy of a case (journalføring) with ``build``, audited as
        ``case_exported`` with the detail ``build`` gives (a checksum, never text). Who may:
        a worker of the queue; which case: the one she holds, or any closed one."""
        self._worker(staff_id)
        self.check_area(reference, staff_id)
        return self.archive.export(reference, staff_id, self.clock(), build)

    def escalate_due(self) -> list[str]:
        """Unclaimed cases waiting too long (urgent ones after
        ``queue.urgent_escalate_after_minutes``, others after ``escalate_after_minutes``):
        notify on-duty staff and leaders (and, for urgent ones out of hours, the on-call
        target). Returns the references escalated now."""
        now = self.clock()
        rules = self.settings.queue
        return self.cases.escalate_due(
            now - timedelta(minutes=rules.escalate_after_minutes),
            now - timedelta(minutes=rules.urgent_escalate_after_minutes),
            now,
        )
