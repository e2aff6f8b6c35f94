"""The leaders' monthly picture as figures: for each, a chart (``bot.console.charts``) and the
table of the same numbers, in the console's language. The CSV export is these tables. A count
from 1 to 4 is never shown: the table says "<5" and the chart leaves it out; a median, share
or mean that rests on fewer than five is not shown either. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.console.charts import Chart, Series, bar_chart
from bot.monthly import SMALL, MonthPicture, WeekShare, hidden
from flows.types import N_

Translate = Callable[..., str]
CAP_TARGETS = 4
"""The time-to-reply chart reaches four times the target; longer bars are cut and labelled."""
GROUPS_SHOWN = 6
"""At most this many topics, languages or channels get their own series; the rest are one."""


@dataclass(frozen=True)
class Figure:
    """One figure: its chart and the table beside it (a row per week, then the month)."""

    key: str
    chart: Chart
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    by_group: bool = False
    """Shown with a row per group and a column per week (the groups' names are long)."""

    def svg(self) -> str:
        """The chart as inline SVG."""
        return bar_chart(self.chart)


def count_text(t: Translate, count: int) -> str:
    """A count as a leader may see it: "<5" for 1-4."""
    return t(N_("console.figures.small"), n=SMALL) if hidden(count) else str(count)


def drawn(count: int) -> float | None:
    """A count as a chart may draw it: not at all for 1-4."""
    return None if hidden(count) else float(count)


def _value(t: Translate, value: float | None, number: Callable[[float], str]) -> str:
    return t(N_("console.figures.too_few")) if value is None else number(value)


def _share(t: Translate, share: WeekShare) -> str:
    if share.total < SMALL or hidden(share.part) or hidden(share.total - share.part):
        return t(N_("console.figures.too_few"))
    return t(N_("console.figures.percent"), n=round(100 * share.part / share.total))


def _grouped(groups: Mapping[str, tuple[int, ...]], other: str) -> dict[str, tuple[int, ...]]:
    """The largest groups as they are, the rest added up as ``other``."""
    names = list(groups)
    if len(names) <= GROUPS_SHOWN:
        return dict(groups)
    kept = {name: groups[name] for name in names[: GROUPS_SHOWN - 1]}
    rest = [groups[name] for name in names[GROUPS_SHOWN - 1 :]]
    kept[other] = tuple(sum(column) for column in zip(*rest, strict=True))
    return kept


class MonthFigures:
    """Builds the figures of a month's picture with the console's words."""

    def __init__(
        self,
        t: Translate,
        label: Callable[[str, str], str],
        number: Callable[[float], str] = "{:g}".format,
    ) -> None:
        """``label(kind, value)``: the name of a topic, language or channel; ``number``
        writes a decimal number the console language's way (12,5)."""
        self.t = t
        self.label = label
        self.number = number

    def weeks(self, picture: MonthPicture) -> tuple[str, ...]:
        return tuple(self.t(N_("console.figures.week"), week=w) for _, w in picture.weeks)

    def _counts(
        self,
        key: str,
        title: str,
        description: str,
        picture: MonthPicture,
        groups: Mapping[str, tuple[int, ...]],
    ) -> Figure:
        """A stacked chart of counts per week and group, and its table with the totals."""
        weeks = self.weeks(picture)
        names = tuple(groups)
        rows = [
            (week, tuple(count_text(self.t, groups[n][i]) for n in names))
            for i, week in enumerate(weeks)
        ]
        rows.append(
            (
                self.t(N_("console.figures.month_total")),
                tuple(count_text(self.t, sum(groups[n])) for n in names),
            )
        )
        series = tuple(Series(n, tuple(drawn(v) for v in groups[n])) for n in names)
        chart = Chart(key, title, description, weeks, series)
        return Figure(key, chart, names, tuple(rows), by_group=True)

    def _by(self, kind: str, groups: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        named: dict[str, tuple[int, ...]] = {}
        for value, counts in groups.items():
            name = self.label(kind, value)
            named[name] = tuple(
                a + b for a, b in zip(named.get(name, (0,) * len(counts)), counts, strict=True)
            )
        return _grouped(named, self.t(N_("console.figures.others")))

    def figures(self, picture: MonthPicture) -> list[Figure]:
        """Every figure of the month, in the order the page shows them."""
        t = self.t
        described = t(N_("console.figures.contacts.desc"))
        result = [
            self._counts(
                "topic",
                t(N_("console.figures.by_topic")),
                described,
                picture,
                self._by("topic", picture.by_topic),
            ),
            self._counts(
                "language",
                t(N_("console.figures.by_language")),
                described,
                picture,
                self._by("language", picture.by_language),
            ),
            self._counts(
                "channel",
                t(N_("console.figures.by_channel")),
                described,
                picture,
                self._by("channel", picture.by_channel),
            ),
            self._counts(
                "handover",
                t(N_("console.figures.handover")),
                t(N_("console.figures.handover.desc")),
                picture,
                {
                    t(N_("console.figures.bot_alone")): picture.bot_alone,
                    t(N_("console.figures.handed_over")): picture.handed_over,
                },
            ),
            self._reply(picture),
            self._out_of_hours(picture),
            self._counts(
                "returning",
                t(N_("console.figures.returning")),
                t(N_("console.figures.returning.desc")),
                picture,
                {
                    t(N_("console.figures.new_families")): tuple(
                        c - r for c, r in zip(picture.cases, picture.returning, strict=True)
                    ),
                    t(N_("console.figures.returning_families")): picture.returning,
                },
            ),
            self._feedback(picture),
        ]
        return result

    def _reply(self, picture: MonthPicture) -> Figure:
        t, weeks = self.t, self.weeks(picture)
        median, p90 = t(N_("console.figures.median")), t(N_("console.figures.ninetieth"))
        target = picture.target_minutes
        rows = [
            (
                week,
                (
                    count_text(t, r.replied),
                    _value(t, r.median, self.number),
                    _value(t, r.p90, self.number),
                ),
            )
            for week, r in zip(weeks, picture.reply_times, strict=True)
        ]
        whole = picture.reply_month
        rows.append(
            (
                t(N_("console.figures.month_total")),
                (
                    count_text(t, whole.replied),
                    _value(t, whole.median, self.number),
                    _value(t, whole.p90, self.number),
                ),
            )
        )
        chart = Chart(
            "reply",
            t(N_("console.figures.reply"), minutes=target),
            t(N_("console.figures.reply.desc"), minutes=target),
            weeks,
            (
                Series(median, tuple(r.median for r in picture.reply_times)),
                Series(p90, tuple(r.p90 for r in picture.reply_times)),
            ),
            stacked=False,
            reference=float(target),
            reference_label=t(N_("console.figures.target"), minutes=target),
            cap=CAP_TARGETS * target,
        )
        columns = (t(N_("console.figures.replied")), median, p90)
        return Figure("reply", chart, columns, tuple(rows))

    def _out_of_hours(self, picture: MonthPicture) -> Figure:
        t, weeks = self.t, self.weeks(picture)
        shares = picture.out_of_hours
        inside, outside = t(N_("console.figures.in_hours")), t(N_("console.figures.out_of_hours"))
        rows = [
            (week, (count_text(t, s.total - s.part), count_text(t, s.part), _share(t, s)))
            for week, s in zip(weeks, shares, strict=True)
        ]
        month = WeekShare(sum(s.part for s in shares), sum(s.total for s in shares))
        rows.append(
            (
                t(N_("console.figures.month_total")),
                (
                    count_text(t, month.total - month.part),
                    count_text(t, month.part),
                    _share(t, month),
                ),
            )
        )
        chart = Chart(
            "hours",
            t(N_("console.figures.hours")),
            t(N_("console.figures.hours.desc")),
            weeks,
            (
                Series(inside, tuple(drawn(s.total - s.part) for s in shares)),
                Series(outside, tuple(drawn(s.part) for s in shares)),
            ),
        )
        columns = (inside, outside, t(N_("console.figures.share_out")))
        return Figure("hours", chart, columns, tuple(rows))

    def _feedback(self, picture: MonthPicture) -> Figure:
        t, weeks = self.t, self.weeks(picture)
        mean = t(N_("console.figures.mean"))
        rows = [
            (week, (count_text(t, f.given), _value(t, f.mean, self.number)))
            for week, f in zip(weeks, picture.feedback, strict=True)
        ]
        whole = picture.feedback_month
        rows.append(
            (
                t(N_("console.figures.month_total")),
                (count_text(t, whole.given), _value(t, whole.mean, self.number)),
            )
        )
        chart = Chart(
            "feedback",
            t(N_("console.figures.feedback")),
            t(N_("console.figures.feedback.desc")),
            weeks,
            (Series(mean, tuple(f.mean for f in picture.feedback)),),
            stacked=False,
            top=5.0,
        )
        return Figure("feedback", chart, (t(N_("console.figures.given")), mean), tuple(rows))
