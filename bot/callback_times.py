"""When calls can be: the slots a series in the console makes ("torsdag 10:00-12:00 hver
30. min"), the slots the opening hours and roster give, and which free slots may be offered
(in the future beyond the notice, within the days ahead, in opening hours, not on a public
holiday). Pure: the time and the schedule come in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from bot.schedule import Schedule
from bot.settings import CallbackSettings

MAX_SERIES = 96
"""At most this many slots from one series (a day in 15-minute steps)."""


def series(schedule: Schedule, day: date, start: time, end: time, every: int) -> list[datetime]:
    """Starts from ``start`` every ``every`` minutes, each ending by ``end``, on ``day`` in
    the municipality's time zone."""
    if every <= 0:
        return []
    moment = datetime.combine(day, start, schedule.zone)
    close = datetime.combine(day, end, schedule.zone)
    starts: list[datetime] = []
    while moment + timedelta(minutes=every) <= close and len(starts) < MAX_SERIES:
        starts.append(moment)
        moment += timedelta(minutes=every)
    return starts


def in_opening_hours(schedule: Schedule, moment: datetime, minutes: int) -> bool:
    """Whether a call from ``moment`` lasting ``minutes`` falls in the opening hours (never
    on a public holiday)."""
    hours = schedule.hours_on(schedule.local(moment).date())
    return (
        hours is not None
        and hours[0] <= moment
        and moment + timedelta(minutes=minutes) <= hours[1]
    )


def generated(schedule: Schedule, rules: CallbackSettings, now: datetime) -> list[datetime]:
    """The slots the opening hours give on the days someone is rostered, from now to
    ``days_ahead`` (``slot_minutes`` each)."""
    today = schedule.local(now).date()
    starts: list[datetime] = []
    for offset in range(rules.days_ahead + 1):
        day = today + timedelta(days=offset)
        hours = schedule.hours_on(day)
        if hours is None or not schedule.rostered(hours[0]):
            continue
        opening, closing = hours
        every = rules.slot_minutes
        starts.extend(
            s
            for s in series(schedule, day, opening.time(), closing.time(), every)
            if s > now
        )
    return starts


def offerable(
    schedule: Schedule, rules: CallbackSettings, now: datetime, starts: Iterable[datetime]
) -> tuple[datetime, ...]:
    """The free starts that may be offered now, earliest first."""
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    latest = now + timedelta(days=rules.days_ahead)
    return tuple(
        s
        for s in sorted(starts)
        if earliest <= s <= latest and in_opening_hours(schedule, s, 1)
    )
