"""The figures a leader reports: reach, time to help, the right service, satisfaction."""

from __future__ import annotations

from bot.app import App
from bot.stats import Gains, gains, period_start
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.test_journeys import parent_sends_a_case


def figures_of(app: App, clock: FakeClock, days: int) -> Gains:
    now = clock()
    facts = app.staff_records.figures(period_start(now, days), "kari", now, f"{days} days")
    return gains(facts, now)


async def test_a_leader_sees_reach_time_to_help_and_satisfaction(
    offline_app: App, clock: FakeClock
) -> None:
    asker = Citizen(offline_app, "asker")
    await asker.says("hvor er helsestasjonen?")
    parent, reference = await parent_sends_a_case(offline_app)
    clock.advance(minutes=12)
    offline_app.queue.claim(reference, "kari")
    clock.advance(hours=3)
    offline_app.queue.close(reference, "kari", "familieteam etablert")
    await parent.says("", button="feedback:4")
    teen = Citizen(offline_app, "teen")
    await teen.says("/anonym")
    await teen.says("jeg har ingen steder å sove i natt")

    figures = figures_of(offline_app, clock, days=30)
    assert figures.conversations_started == 3
    assert figures.questions_answered_by_topic["helsestasjon"] == 1
    assert figures.cases_opened == 2 and figures.cases_closed == 1
    assert figures.cases_anonymous == 1 and figures.cases_urgent == 1
    assert figures.median_minutes_to_claim == 12.0
    assert figures.median_hours_to_close == 3.2
    assert figures.feedback_mean == 4.0 and figures.feedback_by_score["4"] == 1
    assert figures.crisis_messages == 1
    assert "sove" not in str(figures.as_json())  # counts, never words


async def test_the_period_is_respected(offline_app: App, clock: FakeClock) -> None:
    await parent_sends_a_case(offline_app)
    clock.advance(days=40)
    assert figures_of(offline_app, clock, days=30).cases_opened == 0
    assert figures_of(offline_app, clock, days=60).cases_opened == 1
