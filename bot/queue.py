"""The on-duty familielos queue: list, read, claim, reply, transfer, close, escalate.

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
from bot.settings import Settings
from bot.staff import NotPermitted, Permission, Staffing
from bot.store.archive_repo import ArchiveRepo, CaseRecord
from bot.store.queue_repo import (
    MAX_NOTE,
    CaseMessage,
    CaseView,
    Note,
    QueueError,
    QueueItem,
    QueueRepo,
)
from flows.types import N_

__all__ = ["CaseMessage", "CaseRecord", "CaseView", "Note", "Queue", "QueueError", "QueueItem"]

T = TypeVar("T")


class Queue:
    """Staff-side operations on cases."""

    def __init__(
        self,
        settings: Settings,
        cases: QueueRepo,
        catalogs: Catalogs,
        staffing: Staffing,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.cases = cases
        self.catalogs = catalogs
        self.staffing = staffing
        self.clock = clock

    def _permitted(self, staff_id: str, permission: Permission) -> str:
        try:
            return self.staffing.require_permission(staff_id, permission).id
        except NotPermitted as error:
            raise QueueError(str(error)) from None

    def _worker(self, staff_id: str) -> str:
        """The id if it names an active account whose role works the queue: else
        UnknownStaff, or QueueError saying the role may not."""
        try:
            return self.staffing.require_permission(staff_id, Permission.WORK_QUEUE).id
        except NotPermitted as error:
            raise QueueError(str(error)) from None

    def open_cases(self, staff_id: str) -> list[QueueItem]:
        """Open and claimed cases: urgent first, then by waiting time."""
        self._worker(staff_id)
        return self.cases.open_cases(staff_id, self.clock())

    def live(self, staff_id: str) -> list[QueueItem]:
        """The open cases for the console's live queue: the same list, but read only (not
        audited: it shows no citizen text, and the queue page it updates was)."""
        self._worker(staff_id)
        return self.cases.open_cases(staff_id, self.clock(), audited=False)

    def claim(self, reference: str, staff_id: str) -> bool:
        """Take an open case; of two staff claiming at once one wins."""
        self._worker(staff_id)
        return self.cases.claim(reference, staff_id, self.clock())

    def view(self, reference: str, staff_id: str) -> CaseView:
        """Read a case (audited). Nothing else changes: ``mark_read`` tells the citizen."""
        self._worker(staff_id)
        return self.cases.view(reference, staff_id, self.clock())

    def mark_read(self, reference: str, staff_id: str) -> bool:
        """The los who has the case has read it: the citizen is told their messages have
        been read. Whether there was anything unread to mark."""
        self._worker(staff_id)
        return self.cases.mark_read(reference, staff_id, self._receipt, self.clock())

    def _receipt(self, language: str) -> str:
        return self.catalogs(N_("case.read_receipt"), language)

    def reply(self, reference: str, staff_id: str, text: str) -> None:
        """Send a los message to the citizen through their own channel."""
        self._worker(staff_id)
        text = text.strip()
        if not text:
            raise QueueError("empty reply")
        self.cases.reply(reference, staff_id, text, self.clock())

    def add_note(self, reference: str, staff_id: str, text: str) -> None:
        """Write a note in the case log (stafettlogg): for colleagues, never sent to the
        citizen. Audited without its text. Who may: ``Permission.ADD_NOTE``."""
        self._permitted(staff_id, Permission.ADD_NOTE)
        text = text.strip()
        if not text:
            raise QueueError("empty note")
        if len(text) > MAX_NOTE:
            raise QueueError(f"a note is at most {MAX_NOTE} characters")
        self.cases.add_note(reference, staff_id, text, self.clock())

    def transfer(self, reference: str, staff_id: str, to_staff: str) -> None:
        """Hand a claimed case to a colleague."""
        self._worker(staff_id)
        self._worker(to_staff)
        self.cases.transfer(reference, staff_id, to_staff, self.clock())

    def close(self, reference: str, staff_id: str, outcome: str) -> None:
        """Close with an outcome. The conversation gets an event: the router (the one writer
        of conversation state) then asks the citizen for feedback (1-5)."""
        self._worker(staff_id)
        self.cases.close(reference, staff_id, outcome.strip(), self.clock())

    def export(
        self, reference: str, staff_id: str, build: Callable[[CaseRecord], tuple[T, str]]
    ) -> T:
        """Make the archive copy of a case (journalføring) with ``build``, audited as
        ``case_exported`` with the detail ``build`` gives (a checksum, never text). Who may:
        a worker of the queue; which case: the one she holds, or any closed one."""
        self._worker(staff_id)
        return ArchiveRepo(self.cases.sessions).export(reference, staff_id, self.clock(), build)

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
