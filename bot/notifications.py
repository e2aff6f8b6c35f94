"""Staff notices: who is told of what, once per case and kind within a window.

A notice is a row in ``staff_notifications`` (shown live in the console); its delivery by
e-mail and SMS is carried out by the dispatcher (``bot/notify_dispatch.py``). Notices never
contain citizen text: a kind, a case reference and a link to the console.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from bot.schedule import Schedule
from bot.settings import Settings
from bot.staff import Staffing
from bot.store.areas import case_area
from bot.store.db import Transaction
from bot.store.notices import leave_notices, recently_told

ON_CALL = "on-call"
"""The recipient id of the after-hours on-call target (``after_hours.on_call``)."""


class NoticeKind(StrEnum):
    """What a notice is about."""

    NEW_CASE = "new_case"
    URGENT_CASE = "urgent_case"
    """A case that was urgent when it was opened (a crisis opens one at once)."""
    CRISIS = "crisis"
    """Danger in a case that was already open."""
    ESCALATION = "escalation"
    URGENT_ESCALATION = "urgent_escalation"
    TRANSFERRED = "transferred"
    INVITED = "invited"
    """A service member brought into a case (the familieteam)."""


URGENT_KINDS = frozenset({NoticeKind.URGENT_CASE, NoticeKind.CRISIS, NoticeKind.URGENT_ESCALATION})
SAME_DANGER = {
    NoticeKind.CRISIS: (NoticeKind.CRISIS, NoticeKind.URGENT_CASE),
    NoticeKind.URGENT_CASE: (NoticeKind.URGENT_CASE, NoticeKind.CRISIS),
}
"""Kinds that count as the same notice for the repeat window: a crisis message right after
a crisis opened the case is not news to the los."""


def is_urgent(kind: str) -> bool:
    """Whether notices of this kind are urgent (delivered by SMS as well as e-mail)."""
    return kind in URGENT_KINDS


class Notices:
    """Decides who is notified and leaves the notices, without repeating itself."""

    def __init__(self, settings: Settings, staffing: Staffing, schedule: Schedule) -> None:
        self.settings = settings
        self.staffing = staffing
        self.schedule = schedule

    def recipients(
        self,
        tx: Transaction,
        now: datetime,
        kind: NoticeKind,
        *,
        claimed_by: str | None = None,
        preferred: str | None = None,
        to: str | None = None,
    ) -> tuple[str, ...]:
        """Who is told: the los who has the case (or those on duty), leaders of urgent and
        escalated cases, and the on-call target of urgent ones while the office is closed or
        nobody is on duty."""
        if kind in (NoticeKind.TRANSFERRED, NoticeKind.INVITED):
            return (to,) if to else ()
        on_duty = self.staffing.on_duty(tx, now)
        if kind is NoticeKind.NEW_CASE:
            first = (preferred,) if preferred else on_duty
            return first or self.staffing.leaders()
        if kind is NoticeKind.ESCALATION:
            return tuple(dict.fromkeys((*on_duty, *self.staffing.leaders())))
        first = (claimed_by,) if claimed_by else on_duty
        people = [*first, *self.staffing.leaders()]
        on_call = self.settings.after_hours.on_call
        has_target = bool(on_call.sms or on_call.email)
        if has_target and (not self.schedule.is_open(now) or not on_duty):
            people.append(ON_CALL)
        return tuple(dict.fromkeys(people))

    def raise_notice(
        self,
        tx: Transaction,
        now: datetime,
        kind: NoticeKind,
        reference: str | None,
        *,
        claimed_by: str | None = None,
        preferred: str | None = None,
        to: str | None = None,
    ) -> list[str]:
        """Leave a notice for each recipient not told the same within the repeat window;
        returns who was told now."""
        since = now - timedelta(minutes=self.settings.notifications.repeat_after_minutes)
        kinds = [str(k) for k in SAME_DANGER.get(kind, (kind,))]
        told = recently_told(tx, reference, kinds, since)
        fresh = [
            staff_id
            for staff_id in self.recipients(
                tx, now, kind, claimed_by=claimed_by, preferred=preferred, to=to
            )
            if staff_id not in told
        ]
        leave_notices(tx, fresh, str(kind), reference, now)
        return fresh


class AreaNotices(Notices):
    """Notices in an installation with several areas: each case's notices go to its own
    area's roster (on duty, leaders of the area or of all, its on-call target)."""

    def __init__(self, by_area: Mapping[str, Notices], default: str) -> None:
        first = by_area[default]
        super().__init__(first.settings, first.staffing, first.schedule)
        self.by_area = by_area
        self.default = default

    def raise_notice(
        self,
        tx: Transaction,
        now: datetime,
        kind: NoticeKind,
        reference: str | None,
        *,
        claimed_by: str | None = None,
        preferred: str | None = None,
        to: str | None = None,
    ) -> list[str]:
        area = case_area(tx, reference) if reference else None
        notices = self.by_area.get(area or self.default, self.by_area[self.default])
        return Notices.raise_notice(
            notices, tx, now, kind, reference, claimed_by=claimed_by, preferred=preferred, to=to
        )
