"""Readiness (``/readyz``): whether this replica should be sent citizens now.

Alive (``/healthz``) only says the process answers. Ready says what it needs to do its work:

- the **database** answers a trivial query (within ``timeout_s``): without it no message can
  be recorded, so the replica is not ready (503);
- every **supervised loop** (the push loops of Telegram, SMS and WhatsApp, the router's
  pending work) runs and completed a step within 30 s: a dead one leaves replies unsent in
  the outbox, so the replica is not ready (503);
- the **NLU** (Rasa) server answers. A dead Rasa does *not* make the replica unready: the
  crisis check never needs it and the offline matcher answers in its place, so the citizen
  is still answered. The body says ``"nlu": false, "degraded": true`` (status 200) for
  monitoring to alert on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from bot.channels.delivery import SupervisedLoop

log = logging.getLogger(__name__)
PING_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Readiness:
    """The answer of one readiness check."""

    database: bool
    nlu: bool
    loops: dict[str, dict[str, object]]

    @property
    def ready(self) -> bool:
        """The database answers and every loop is healthy."""
        return self.database and all(bool(entry["ok"]) for entry in self.loops.values())

    @property
    def degraded(self) -> bool:
        """Ready, but answering without the NLU server (the offline matcher alone)."""
        return self.ready and not self.nlu

    def as_json(self) -> dict[str, object]:
        """The /readyz body."""
        return {
            "ready": self.ready,
            "degraded": self.degraded,
            "database": self.database,
            "nlu": self.nlu,
            "loops": self.loops,
        }


class ReadinessCheck:
    """Checks the database (``ping``, a blocking call, on a daemon thread of its own so that
    a hung database never ties up the store's threads; a ping still running is waited on,
    not started again), the NLU server (``nlu_up``) and the loops."""

    def __init__(
        self,
        ping: Callable[[], None],
        nlu_up: Callable[[], Awaitable[bool]],
        *,
        timeout_s: float = PING_TIMEOUT_S,
    ) -> None:
        self.ping = ping
        self.nlu_up = nlu_up
        self.timeout_s = timeout_s
        self._pinging: Future[None] | None = None

    async def check(self, loops: Mapping[str, SupervisedLoop]) -> Readiness:
        """Check all three at once."""
        database, nlu = await asyncio.gather(self._database(), self._nlu())
        return Readiness(database, nlu, {name: loop.health() for name, loop in loops.items()})

    async def _database(self) -> bool:
        if self._pinging is None or self._pinging.done():
            self._pinging = self._start_ping()
        try:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.shield(asyncio.wrap_future(self._pinging))
        except TimeoutError:
            log.warning("readiness: the database did not answer within %.1f s", self.timeout_s)
            return False
        except Exception as error:  # the kind only: a driver's message may quote a query
            log.warning("readiness: the database failed error=%s", type(error).__name__)
            return False
        return True

    def _start_ping(self) -> Future[None]:
        pinged: Future[None] = Future()

        def run() -> None:
            try:
                self.ping()
            except BaseException as error:  # handed to the waiting check
                pinged.set_exception(error)
            else:
                pinged.set_result(None)

        threading.Thread(target=run, name="readiness-ping", daemon=True).start()
        return pinged

    async def _nlu(self) -> bool:
        try:
            return await self.nlu_up()
        except Exception as error:
            log.warning("readiness: the NLU check failed error=%s", type(error).__name__)
            return False
