"""Who is on duty: the roster in config.yml, overridden by staff switching themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.schedule import Schedule
from bot.settings import Settings
from bot.store.db import Transaction
from bot.store.duty import duty_switches


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

    def day(self, now: datetime) -> str:
        """The local date (ISO) that duty switches are recorded under."""
        return self.schedule.local(now).date().isoformat()

    def on_duty(self, tx: Transaction, now: datetime) -> tuple[str, ...]:
        """Los staff on duty now: today's roster plus switched on, minus switched off."""
        return self.on_duty_given(duty_switches(tx, self.day(now)), now)

    def on_duty_given(self, switches: Mapping[str, bool], now: datetime) -> tuple[str, ...]:
        """Los staff on duty now, given today's own switches (staff id: on)."""
        on = set(self.schedule.rostered(now))
        for staff_id, switched_on in switches.items():
            if switched_on:
                on.add(staff_id)
            else:
                on.discard(staff_id)
        return tuple(sorted(s for s in on if s in self.members))
