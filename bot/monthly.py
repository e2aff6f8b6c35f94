"""The leaders' monthly picture (gevinstrealisering), counted per ISO week of one calendar month
in the municipality's time: contacts by topic, language and channel; answered by the bot
alone or handed over; time to the first los reply against the target; the share of contacts
outside opening hours; returning families; feedback. Pure: the facts and the clock's "now"
come in, counts come out. Small counts are hidden where they are shown (``SMALL``)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store.figures import CaseFacts, ContactFacts, MonthFacts

SMALL = 5
"""Counts from 1 up to SMALL - 1 are never shown in leaders' figures, and no median, share or
mean is shown that rests on fewer than SMALL cases."""
OTHER_TOPIC = "-"


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month | None:
        """``2026-11`` (just so, ASCII digits) as a month, else None."""
        parts = text.split("-")
        if len(text) != 7 or not text.isascii() or len(parts) != 2:
            return None
        if not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
            return None
        year, month = int(parts[0]), int(parts[1])
        return cls(year, month) if 2000 <= year <= 2999 and 1 <= month <= 12 else None

    @classmethod
    def of(cls, moment: datetime, zone: ZoneInfo) -> Month:
        """The month a moment falls in, in the municipality's time."""
        local = moment.astimezone(zone)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Its first moment and the first moment of the next month, in local time."""
        start = datetime.combine(self.first_day(), datetime.min.time(), zone)
        end = datetime.combine(self.next().first_day(), datetime.min.time(), zone)
        return start, end

    def weeks(self) -> tuple[tuple[int, int], ...]:
        """The ISO weeks (year, week) with days in this month, in order."""
        day, last = self.first_day(), self.next().first_day()
        found: list[tuple[int, int]] = []
        while day < last:
            iso = day.isocalendar()
            if (iso.year, iso.week) not in found:
                found.append((iso.year, iso.week))
            day += timedelta(days=1)
        return tuple(found)


@dataclass(frozen=True)
class ReplyTimes:
    """Minutes from a case's opening to the first los reply, in one week (or the month)."""

    replied: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class WeekShare:
    """Of ``total`` contacts, ``part`` were so."""

    part: int
    total: int


@dataclass(frozen=True)
class Feedback:
    """Feedback given on the cases of one week (scores 1-5)."""

    given: int
    mean: float | None


@dataclass(frozen=True)
class MonthPicture:
    """The month's figures, week by week (``weeks``, in order), before any count is hidden."""

    month: Month
    weeks: tuple[tuple[int, int], ...]
    contacts: tuple[int, ...]
    by_topic: dict[str, tuple[int, ...]]
    by_language: dict[str, tuple[int, ...]]
    by_channel: dict[str, tuple[int, ...]]
    bot_alone: tuple[int, ...]
    handed_over: tuple[int, ...]
    reply_times: tuple[ReplyTimes, ...]
    reply_month: ReplyTimes
    target_minutes: int
    out_of_hours: tuple[WeekShare, ...]
    cases: tuple[int, ...]
    returning: tuple[int, ...]
    feedback: tuple[Feedback, ...]
    feedback_month: Feedback


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.9 for the 90th) of at least one value."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def reply_times(cases: Iterable[CaseFacts]) -> ReplyTimes:
    """Median and 90th percentile of the minutes to the first los reply (fewer than SMALL
    replied cases: neither)."""
    minutes = [
        (c.first_reply_at - c.created_at).total_seconds() / 60
        for c in cases
        if c.first_reply_at is not None
    ]
    if len(minutes) < SMALL:
        return ReplyTimes(len(minutes), None, None)
    return ReplyTimes(
        len(minutes), round(statistics.median(minutes), 1), round(percentile(minutes, 0.9), 1)
    )


def _feedback(cases: Sequence[CaseFacts]) -> Feedback:
    scores = [c.feedback_score for c in cases if c.feedback_score is not None]
    mean = round(statistics.mean(scores), 1) if len(scores) >= SMALL else None
    return Feedback(len(scores), mean)


Week = tuple[int, int]


def _split(
    items: Sequence[tuple[ContactFacts, Week]],
    weeks: Sequence[Week],
    key: Callable[[ContactFacts], str],
) -> dict[str, tuple[int, ...]]:
    """Per group (most contacts first), the contacts of each week."""
    counted: dict[Week, Counter[str]] = {w: Counter() for w in weeks}
    totals: Counter[str] = Counter()
    for item, week in items:
        counted[week][key(item)] += 1
        totals[key(item)] += 1
    return {name: tuple(counted[w][name] for w in weeks) for name, _ in totals.most_common()}


def month_picture(
    facts: MonthFacts,
    month: Month,
    zone: ZoneInfo,
    is_open: Callable[[datetime], bool],
    target_minutes: int,
) -> MonthPicture:
    """The month's figures from its facts; ``is_open`` tells whether the los office was open
    at a moment (contacts outside it count as out of hours)."""
    weeks = month.weeks()

    def week_of(moment: datetime) -> tuple[int, int]:
        iso = moment.astimezone(zone).isocalendar()
        return iso.year, iso.week

    contacts = [(c, week_of(c.started_at)) for c in facts.contacts]
    contacts = [(c, w) for c, w in contacts if w in weeks]
    cases = [(c, week_of(c.created_at)) for c in facts.cases]
    cases = [(c, w) for c, w in cases if w in weeks]

    def per_week(count: Callable[[ContactFacts], bool]) -> tuple[int, ...]:
        return tuple(sum(1 for c, cw in contacts if cw == w and count(c)) for w in weeks)

    def cases_of(week: tuple[int, int]) -> list[CaseFacts]:
        return [c for c, cw in cases if cw == week]

    return MonthPicture(
        month=month,
        weeks=weeks,
        contacts=per_week(lambda c: True),
        by_topic=_split(contacts, weeks, lambda c: c.topic or OTHER_TOPIC),
        by_language=_split(contacts, weeks, lambda c: c.language),
        by_channel=_split(contacts, weeks, lambda c: c.channel),
        bot_alone=per_week(lambda c: not c.handed_over),
        handed_over=per_week(lambda c: c.handed_over),
        reply_times=tuple(reply_times(cases_of(w)) for w in weeks),
        reply_month=reply_times(c for c, _ in cases),
        target_minutes=target_minutes,
        out_of_hours=tuple(
            WeekShare(
                sum(1 for c, cw in contacts if cw == w and not is_open(c.started_at)),
                sum(1 for _, cw in contacts if cw == w),
            )
            for w in weeks
        ),
        cases=tuple(len(cases_of(w)) for w in weeks),
        returning=tuple(sum(c.returning for c in cases_of(w)) for w in weeks),
        feedback=tuple(_feedback(cases_of(w)) for w in weeks),
        feedback_month=_feedback([c for c, _ in cases]),
    )


def hidden(count: int) -> bool:
    """Whether a count must not be shown: 1 to SMALL - 1 (0 may be shown)."""
    return 0 < count < SMALL
