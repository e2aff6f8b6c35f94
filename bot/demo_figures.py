"""`inngang demo-figures`, and the same at `inngang run` on an empty database of the shipped
example configuration: four weeks of made-up, plausible contacts and closed cases for Fjordvik
kommune (which does not exist), so a leader sees the monthly picture (/staff/figures) with
something in it. Never for a real municipality: only with ``example_data: true``.

The plan is drawn from a seeded random generator (the same figures every time for the same
"now"); the store writes it (``bot.store.demo_data``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.router import new_reference
from bot.store.demo_data import DemoCase, DemoContact, is_empty, write_demo
from bot.store.enums import OUTCOME_KINDS
from flows.types import N_

if TYPE_CHECKING:
    from bot.app import App

DAYS = 28
"""Four weeks back from now: inside ``retention.anonymous_conversation_days`` (30 by
default), so retention does not delete the contacts the bot answered alone at once."""
PER_DAY = (12, 14, 13, 13, 10, 4, 3)
"""Roughly how many new contacts on Monday ... Sunday."""
CHANNELS = (("web", 55), ("telegram", 25), ("sms", 20))
LANGUAGES = (("nb", 70), ("en", 7), ("ar", 7), ("uk", 6), ("pl", 5), ("so", 3), ("nn", 2))
TOPICS = (
    ("helsestasjon", 20),
    ("skolehelsetjeneste", 15),
    ("ppt", 12),
    ("familieteam", 10),
    ("psykisk_helse_rus", 10),
    ("fritid", 8),
    ("nav", 8),
    ("flyktning", 7),
    ("bup", 5),
    ("barnevern", 5),
)
HANDED_OVER = 0.4
IN_HOURS = 0.7
FEEDBACK = 0.5


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def plan(
    now: datetime,
    zone: ZoneInfo,
    is_open: Callable[[datetime], bool],
    next_opening: Callable[[datetime], datetime],
    los: Sequence[str],
    seed: int = 2026,
) -> list[DemoContact]:
    """Four weeks of made-up contacts up to ``now``, every case closed by ``now``."""
    rng = random.Random(seed)
    today = now.astimezone(zone).date()
    contacts: list[DemoContact] = []
    earlier: list[str] = []
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        for _ in range(max(0, round(rng.gauss(PER_DAY[day.weekday()], 3)))):
            if rng.random() < IN_HOURS:
                minute = rng.randint(8 * 60, 15 * 60 + 29)
            else:
                minute = rng.choice((rng.randint(0, 8 * 60 - 1), rng.randint(16 * 60, 24 * 60 - 1)))
            started = datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=minute)
            if started >= now - timedelta(hours=2):
                continue
            case = None
            if rng.random() < HANDED_OVER and los:
                case = _case(rng, started, now, is_open, next_opening, los, earlier)
            if case is not None:
                earlier.append(case.reference)
            contacts.append(
                DemoContact(
                    _pick(rng, CHANNELS), _pick(rng, LANGUAGES), _pick(rng, TOPICS), started, case
                )
            )
    return contacts


def _case(
    rng: random.Random,
    started: datetime,
    now: datetime,
    is_open: Callable[[datetime], bool],
    next_opening: Callable[[datetime], datetime],
    los: Sequence[str],
    earlier: Sequence[str],
) -> DemoCase | None:
    """A closed case for a contact, or None when a los would not have answered it yet."""
    urgent = rng.random() < 0.05
    waits_from = started if is_open(started) or urgent else next_opening(started)
    claimed = waits_from + timedelta(minutes=rng.lognormvariate(2.6, 0.7))
    replied = claimed + timedelta(minutes=rng.lognormvariate(1.8, 0.8))
    if replied >= now - timedelta(minutes=1):
        return None
    closed = min(replied + timedelta(hours=rng.uniform(2, 24 * 9)), now - timedelta(minutes=1))
    closed = max(closed, replied)
    feedback = None
    if rng.random() < FEEDBACK:
        feedback = int(rng.choices((1, 2, 3, 4, 5), (2, 4, 12, 38, 44))[0])
    previous = rng.choice(earlier) if earlier and rng.random() < 0.12 else None
    return DemoCase(
        new_reference(),
        urgent,
        previous,
        rng.choice(list(los)),
        claimed,
        replied,
        closed,
        rng.choice(OUTCOME_KINDS[:4]),
        feedback,
    )


def demo_text(catalogs: Callable[..., str], language: str) -> str:
    """What every made-up message says, in the municipality's default language."""
    return catalogs(N_("demo.message"), language)


def write_for_example(app: App, *, only_if_empty: bool) -> int | None:
    """Write the made-up month into the example configuration's database (``only_if_empty``:
    only when no citizen has written yet); how many contacts, or None when not written."""
    settings = app.settings
    sessions = app.store.sessions
    if not settings.example_data or (only_if_empty and not is_empty(sessions)):
        return None
    schedule = app.router.staffing.schedule
    los = [m.id for m in settings.roster.staff if m.role == "los"]
    contacts = plan(
        app.router.clock(),
        schedule.zone,
        schedule.is_open,
        schedule.next_opening,
        los,
    )
    return write_demo(sessions, contacts, demo_text(app.catalogs, settings.languages.default))
