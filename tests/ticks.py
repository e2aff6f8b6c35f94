"""Monotonic seconds a test moves on by hand (for code that takes ``time.monotonic``-like
clocks: the NLU pool's down-window, the connection pool's idle ping, sign-in slow-downs)."""

from __future__ import annotations


class Ticks:
    """A monotonic clock in seconds; set ``now`` to move it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
