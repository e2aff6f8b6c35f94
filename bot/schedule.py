"""Opening hours, Norwegian public holidays and the familielos roster, in Europe/Oslo time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.settings import WEEKDAYS, Settings


@lru_cache(maxsize=16)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def _clock(value: str) -> time:
    hours, minutes = (int(part) for part in value.split(":"))
    return time(23, 59, 59) if hours == 24 else time(hours, minutes)


class Schedule:
    """Answers: is the los office open now, when does it next open, who is on duty today."""

    def __init__(
        self,
        settings: Settings,
        weekly: Callable[[], Mapping[str, tuple[str, str]]] | None = None,
    ) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.municipality.timezone)
        self.weekly = weekly or (lambda: settings.opening_hours.weekly)
        """The weekly opening hours in force (staff may change config.yml's: bot/content.py)."""

    def local(self, moment: datetime) -> datetime:
        """The moment in the municipality's time zone."""
        return moment.astimezone(self.zone)

    def is_holiday(self, day: date) -> bool:
        """Whether the day is a public holiday in the configured country."""
        return day in _holidays(self.settings.opening_hours.holidays_country, day.year)

    def hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing time on that day, or None when closed."""
        if self.is_holiday(day):
            return None
        hours = self.weekly().get(WEEKDAYS[day.weekday()])
        if hours is None:
            return None
        start, end = hours
        return (
            datetime.combine(day, _clock(start), self.zone),
            datetime.combine(day, _clock(end), self.zone),
        )

    def is_open(self, moment: datetime) -> bool:
        """Whether the los office is open at this moment."""
        local = self.local(moment)
        hours = self.hours_on(local.date())
        return hours is not None and hours[0] <= local < hours[1]

    def next_opening(self, moment: datetime) -> datetime:
        """The next moment the office opens (the moment itself when it is open now)."""
        if self.is_open(moment):
            return moment
        local = self.local(moment)
        for offset in range(0, 30):
            day = local.date() + timedelta(days=offset)
            hours = self.hours_on(day)
            if hours is not None and hours[0] > local:
                return hours[0]
        raise ValueError("no opening within 30 days; check opening_hours in config.yml")

    def rostered(self, moment: datetime) -> tuple[str, ...]:
        """Staff ids on duty by the roster on this day (empty on holidays)."""
        local = self.local(moment)
        if self.is_holiday(local.date()):
            return ()
        return self.settings.roster.on_duty.get(WEEKDAYS[local.weekday()], ())
