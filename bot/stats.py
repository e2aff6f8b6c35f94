"""The gains a leader reports (gevinstrealisering): reach, time to help, the right service,
satisfaction. Aggregates only: no message text, no identities, nothing a citizen could be
recognised by. Figures cover what retention has not yet deleted."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from bot.monthly import SMALL, hidden
from bot.store.enums import CaseStatus
from bot.store.figures import CaseFacts, PeriodFacts


@dataclass(frozen=True)
class Gains:
    """What happened in one period, counted."""

    since: str
    until: str
    conversations_started: int
    messages_from_citizens: int
    questions_answered_by_topic: dict[str, int]
    crisis_messages: int
    cases_opened: int
    cases_by_channel: dict[str, int]
    cases_by_language: dict[str, int]
    cases_by_topic: dict[str, int]
    cases_anonymous: int
    cases_urgent: int
    cases_returning: int
    """Linked to an earlier case of the same family (kommuneverten)."""
    cases_escalated: int
    cases_closed: int
    cases_withdrawn: int
    median_minutes_to_claim: float | None
    median_minutes_to_claim_urgent: float | None
    median_hours_to_close: float | None
    feedback_given: int
    feedback_mean: float | None
    feedback_by_score: dict[str, int]

    def as_json(self) -> dict[str, object]:
        """The --json shape."""
        return asdict(self)

    def shown(self, small: str) -> dict[str, object]:
        """The --json shape as a leader may see it: every count from 1 to 4 is ``small``
        ("<5"), and so is the mean of fewer than five feedback scores."""

        def hide(value: object) -> object:
            if isinstance(value, dict):
                return {k: hide(v) for k, v in value.items()}
            if isinstance(value, int) and not isinstance(value, bool) and hidden(value):
                return small
            return value

        shown = {name: hide(value) for name, value in self.as_json().items()}
        if self.feedback_given < SMALL and self.feedback_mean is not None:
            shown["feedback_mean"] = small
        return shown


def _median_minutes(spans: list[timedelta]) -> float | None:
    return round(statistics.median(s.total_seconds() / 60 for s in spans), 1) if spans else None


def period_start(now: datetime, days: int) -> datetime:
    """The start of the period of the last ``days`` days up to ``now``."""
    return now - timedelta(days=days)


def gains(facts: PeriodFacts, now: datetime) -> Gains:
    """The figures for the period from ``facts.since`` up to ``now``."""
    since, inbound, cases = facts.since, facts.inbound, facts.cases

    def waited(case: CaseFacts, until: datetime | None) -> timedelta | None:
        return None if until is None else until - case.created_at

    to_claim = [w for c in cases if (w := waited(c, c.claimed_at)) is not None]
    to_claim_urgent = [w for c in cases if c.urgent and (w := waited(c, c.claimed_at)) is not None]
    closed = [c for c in cases if c.status is CaseStatus.CLOSED]
    to_close = [w for c in closed if (w := waited(c, c.closed_at)) is not None]
    scores = [c.feedback_score for c in cases if c.feedback_score is not None]
    hours = _median_minutes(to_close)
    return Gains(
        since=since.isoformat(timespec="minutes"),
        until=now.isoformat(timespec="minutes"),
        conversations_started=facts.conversations_started,
        messages_from_citizens=len(inbound),
        questions_answered_by_topic=dict(
            Counter(topic for topic, _ in inbound if topic).most_common()
        ),
        crisis_messages=sum(1 for _, crisis in inbound if crisis),
        cases_opened=len(cases),
        cases_by_channel=dict(Counter(c.channel for c in cases).most_common()),
        cases_by_language=dict(Counter(c.language for c in cases).most_common()),
        cases_by_topic=dict(Counter(c.topic or "-" for c in cases).most_common()),
        cases_anonymous=sum(c.anonymous for c in cases),
        cases_urgent=sum(c.urgent for c in cases),
        cases_returning=sum(c.returning for c in cases),
        cases_escalated=sum(c.escalated for c in cases),
        cases_closed=len(closed),
        cases_withdrawn=sum(c.status is CaseStatus.WITHDRAWN for c in cases),
        median_minutes_to_claim=_median_minutes(to_claim),
        median_minutes_to_claim_urgent=_median_minutes(to_claim_urgent),
        median_hours_to_close=None if hours is None else round(hours / 60, 1),
        feedback_given=len(scores),
        feedback_mean=round(statistics.mean(scores), 2) if scores else None,
        feedback_by_score={str(n): scores.count(n) for n in range(1, 6)},
    )
