"""The leaders' charts and the month's counting, without a database: a week without contacts
draws no bar, a count under five is neither drawn nor written, a median of too few is not
shown, weeks are ISO weeks in Oslo time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.console.charts import Chart, Series, bar_chart, nice_step
from bot.console.month_figures import MonthFigures, count_text, drawn
from bot.monthly import Month, month_picture, percentile
from bot.store.enums import CaseStatus
from bot.store.figures import CaseFacts, ContactFacts, MonthFacts

OSLO = ZoneInfo("Europe/Oslo")
NOVEMBER = Month(2026, 11)


def t(key: str, **params: object) -> str:
    """The catalog's shape without the catalog: the key and its parameters."""
    return (
        "<5" if key == "console.figures.small" else key + "".join(f":{v}" for v in params.values())
    )


def contact(day: int, hour: int = 10, topic: str = "ppt", case: bool = False) -> ContactFacts:
    started = datetime(2026, 11, day, hour, tzinfo=OSLO).astimezone(UTC)
    return ContactFacts("web", "nb", topic, started, case)


def case_facts(day: int, reply_minutes: float | None, feedback: int | None = None) -> CaseFacts:
    created = datetime(2026, 11, day, 10, tzinfo=OSLO).astimezone(UTC)
    replied = None if reply_minutes is None else created + timedelta(minutes=reply_minutes)
    return CaseFacts(
        "web", "nb", "ppt", CaseStatus.CLOSED, False, False, False, False,
        created, created, created + timedelta(days=1), feedback, replied,
    )  # fmt: skip


def office_hours(moment: datetime) -> bool:
    local = moment.astimezone(OSLO)
    return local.weekday() < 5 and 8 <= local.hour < 16


def test_a_week_with_no_contacts_draws_no_bar_and_a_count_under_five_is_not_drawn() -> None:
    chart = Chart(
        "topic",
        "Henvendelser per uke",
        "Nye henvendelser per uke",
        ("uke 45", "uke 46", "uke 47"),
        (Series("PPT", (12.0, 0.0, drawn(3))), Series("Helsestasjon", (7.0, 0.0, 9.0))),
    )
    svg = bar_chart(chart)
    assert svg.count('class="bar"') == 3  # week 46 has none; PPT's 3 in week 47 is hidden
    assert "uke 47, PPT" not in svg and "uke 47, Helsestasjon: 9" in svg
    assert (
        'role="img"' in svg and 'aria-labelledby="topic-title" aria-describedby="topic-desc"' in svg
    )
    assert '<title id="topic-title">Henvendelser per uke</title>' in svg


def test_the_chart_escapes_names_and_draws_the_target_line() -> None:
    chart = Chart(
        "reply", "Tid <til> svar", "d", ("uke 45",), (Series("Median & co", (42.0,)),),
        stacked=False, reference=60.0, reference_label="Mål 60 min",
    )  # fmt: skip
    svg = bar_chart(chart)
    assert "Tid &lt;til&gt; svar" in svg and "Median &amp; co" in svg
    assert 'class="reference"' in svg and "Mål 60 min" in svg


def test_scale_steps_are_round() -> None:
    assert [nice_step(v) for v in (0, 3, 7, 9, 40, 82, 130)] == [1, 1, 2, 5, 10, 25, 50]


def test_a_count_under_five_is_written_as_under_five_and_zero_as_zero() -> None:
    assert [count_text(t, n) for n in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]


def test_the_month_counts_iso_weeks_in_oslo_time() -> None:
    assert NOVEMBER.weeks() == (
        (2026, 44),
        (2026, 45),
        (2026, 46),
        (2026, 47),
        (2026, 48),
        (2026, 49),
    )
    assert Month.parse("2026-11") == NOVEMBER and Month.parse("2026-13") is None
    assert Month.parse("x") is None and NOVEMBER.previous() == Month(2026, 10)
    assert [Month.parse(t) for t in ("2026-1", "2026-011", "٢٠٢٦-١١", "2026-11-30")] == [None] * 4
    assert Month(2026, 12).next() == Month(2027, 1) and Month(2027, 1).previous() == Month(2026, 12)
    start, end = NOVEMBER.bounds(OSLO)
    assert start.isoformat() == "2026-11-01T00:00:00+01:00" and end.month == 12
    # Sunday 1 November 00:30 in Oslo is 31 October in UTC: still November's week 44.
    late = ContactFacts("web", "nb", None, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), False)
    picture = month_picture(MonthFacts(start, end, (late,), ()), NOVEMBER, OSLO, office_hours, 60)
    assert picture.contacts[0] == 1


def test_the_month_picture_counts_handover_hours_reply_times_and_feedback() -> None:
    contacts = [contact(10, case=i < 6) for i in range(8)] + [contact(11, hour=21)] * 5
    cases = [case_facts(10, m, feedback=5) for m in (10, 20, 30, 40, 200)]
    cases.append(case_facts(17, 15, feedback=4))
    start, end = NOVEMBER.bounds(OSLO)
    facts = MonthFacts(start, end, tuple(contacts), tuple(cases))
    picture = month_picture(facts, NOVEMBER, OSLO, office_hours, 60)
    week46 = picture.weeks.index((2026, 46))
    assert picture.contacts[week46] == 13
    assert picture.handed_over[week46] == 6 and picture.bot_alone[week46] == 7
    assert picture.out_of_hours[week46].part == 5
    assert picture.reply_times[week46].median == 30.0 and picture.reply_times[week46].p90 == 200.0
    week47 = picture.weeks.index((2026, 47))
    assert picture.reply_times[week47].median is None  # one case: not shown
    assert picture.reply_month.replied == 6
    assert picture.feedback[week46].mean == 5.0 and picture.feedback[week47].mean is None


def test_the_tables_hide_small_counts_and_too_few_medians() -> None:
    contacts = [contact(10) for _ in range(7)] + [contact(10, topic="bup") for _ in range(2)]
    start, end = NOVEMBER.bounds(OSLO)
    picture = month_picture(
        MonthFacts(start, end, tuple(contacts), (case_facts(10, 5),)),
        NOVEMBER,
        OSLO,
        office_hours,
        60,
    )
    figures = MonthFigures(t, lambda kind, value: value).figures(picture)
    by_topic = next(f for f in figures if f.key == "topic")
    week46 = dict(by_topic.rows)[t("console.figures.week", week=46)]
    assert dict(zip(by_topic.columns, week46, strict=True)) == {"ppt": "7", "bup": "<5"}
    reply = next(f for f in figures if f.key == "reply")
    assert all(r[1][1] == "console.figures.too_few" for r in reply.rows)
    assert ", bup:" not in by_topic.svg() and ", ppt: 7" in by_topic.svg()


def test_the_ninetieth_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.9) == 5


def test_one_long_wait_is_cut_at_the_cap_and_says_its_value() -> None:
    chart = Chart(
        "reply", "Tid til svar", "d", ("uke 45", "uke 46"),
        (Series("Median", (30.0, 2796.8)),), stacked=False, reference=60.0, cap=240.0,
    )  # fmt: skip
    svg = bar_chart(chart)
    assert "↑2797" in svg and ">300</text>" in svg and ">3000</text>" not in svg
    assert 'height="160.0"' in svg  # 240 of 300 on a 200 px high plot


def test_a_fixed_top_of_five_has_a_tick_for_every_score() -> None:
    chart = Chart("feedback", "Snitt", "d", ("uke 45",), (Series("Snitt", (4.2,)),), top=5.0)
    svg = bar_chart(chart)
    assert all(f">{n}</text>" in svg for n in range(6)) and ">6</text>" not in svg
