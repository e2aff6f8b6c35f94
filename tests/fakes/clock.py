"""A clock the test moves by hand."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Callable like bot.clock.system_clock; `advance` moves time forward."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
