"""Who is on duty: the roster in config.yml, overridden by staff switching themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.schedule import Schedule
from bot.settings import Settings
from bot.store.models import StaffDuty


class UnknownStaff(Exception):
    """A staff id that is not in the roster."""


class Staffing:
    """On-duty staff and leaders, from the roster and today's own switches."""

    def __init__(self, settings: Settings, schedule: Schedule) -> None:
        self.settings = settings
        self.schedule = schedule
        self.members = {member.id: member for member in settings.roster.staff}

    def require(self, staff_id: str) -> str:
        """The id if it names a staff member, else UnknownStaff."""
        if staff_id not in self.members:
            raise UnknownStaff(staff_id)
        return staff_id

    def leaders(self) -> tuple[str, ...]:
        """Staff with the leader role (they get escalations and crisis notices)."""
        return tuple(m.id for m in self.settings.roster.staff if m.role == "leader")

    def on_duty(self, session: Session, now: datetime) -> tuple[str, ...]:
        """Los staff on duty now: today's roster plus switched on, minus switched off."""
        today = self.schedule.local(now).date().isoformat()
        on = set(self.schedule.rostered(now))
        for row in session.scalars(select(StaffDuty).where(StaffDuty.day == today)):
            if row.on_duty:
                on.add(row.staff_id)
            else:
                on.discard(row.staff_id)
        return tuple(sorted(s for s in on if s in self.members))

    def set_duty(self, session: Session, staff_id: str, on: bool, now: datetime) -> None:
        """Switch a staff member on or off duty for today."""
        self.require(staff_id)
        today = self.schedule.local(now).date().isoformat()
        row = session.get(StaffDuty, staff_id)
        if row is None:
            session.add(StaffDuty(staff_id=staff_id, on_duty=on, day=today, updated_at=now))
        else:
            row.on_duty, row.day, row.updated_at = on, today, now
