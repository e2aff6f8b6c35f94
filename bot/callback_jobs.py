"""The callback jobs the housekeeping loop runs through ``JobGate`` (once per tick across
replicas): the reminders before booked calls, and the slots the opening hours and roster
give (when ``callbacks.generate`` is on)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.areas import DEFAULT_AREA
from bot.callback_times import generated
from bot.clock import Clock
from bot.schedule import Schedule
from bot.settings import CallbackSettings
from bot.store.callbacks import Callbacks


class CallbackJobs:
    """``remind`` every tick, ``generate`` every hour."""

    def __init__(
        self,
        rules: CallbackSettings,
        calls: Callbacks,
        schedule: Schedule,
        clock: Clock,
        areas: Mapping[str, Schedule] | None = None,
    ) -> None:
        self.rules = rules
        self.calls = calls
        self.schedule = schedule
        self.clock = clock
        self.areas = areas or {DEFAULT_AREA: schedule}
        """Each area's schedule: its opening hours and roster give its slots."""

    def remind(self) -> int:
        """Remind the families whose call is within ``reminder_minutes``; how many."""
        minutes = self.rules.reminder_minutes
        return self.calls.remind(timedelta(minutes=minutes)) if minutes else 0

    def generate(self) -> int:
        """Add each area's generated slots that do not exist yet; how many."""
        if not self.rules.generate:
            return 0
        now, minutes = self.clock(), self.rules.slot_minutes
        return sum(
            self.calls.generate(generated(schedule, self.rules, now), minutes, area)
            for area, schedule in self.areas.items()
        )
