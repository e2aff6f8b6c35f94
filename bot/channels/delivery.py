"""Delivery on channels that push (Telegram, SMS): every reply reaches the citizen once, in order.

- A conversation's replies go out in order: first what waits in its outbox (los replies, read
  receipts, feedback questions, answers to recovered messages, earlier answers that failed),
  oldest first, then the fresh answer. An outbox message is acknowledged
  (``store.acknowledge``) only after the channel accepted every part of it.
- A transient failure (a 5xx, a timeout or network error, a 429) stops the conversation's
  delivery there: what was not sent stays in the outbox (a fresh answer is put there) and is
  postponed with back-off, or by the 429's retry_after; the push loop sends it when it is due.
  Parts of a message the channel already accepted are not sent again (remembered in memory;
  after a restart the whole message goes again).
- Blocked (Telegram 403): the conversation is marked unreachable, so the los sees it, and
  everything stays in the outbox until the citizen writes again.
- One delivery at a time per conversation; different conversations never wait for each other.

``SupervisedLoop`` runs a background step (a push loop, the router's pending work) every few
seconds; it survives any exception (logging its kind, never a text), backs off while it keeps
failing, and reports its health for ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from bot.locks import KeyedLocks
from bot.store.repo import Delivery, Store
from flows.types import Outbound

log = logging.getLogger(__name__)


class Undelivered(Exception):
    """The channel did not accept a message: ``parts_done`` of its parts were accepted."""

    def __init__(
        self,
        kind: str,
        *,
        parts_done: int = 0,
        blocked: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.parts_done = parts_done
        self.blocked = blocked
        self.retry_after_s = retry_after_s


SendOne = Callable[[Outbound, int], Awaitable[None]]
"""Send one message from part ``start`` on; raise ``Undelivered`` (with the index of the first
part not accepted as ``parts_done``) when the channel does not take it."""


def backoff(failures: int, base_s: float, max_s: float) -> timedelta:
    """The wait after ``failures`` failures in a row: base, doubling, at most max."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, failures - 1)))


class Deliverer:
    """Delivers a conversation's waiting outbox messages and fresh replies for one channel."""

    def __init__(
        self,
        store: Store,
        channel: str,
        *,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 900.0,
    ) -> None:
        self.store = store
        self.channel = channel
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._locks: KeyedLocks[str] = KeyedLocks()
        self._failures: dict[str, int] = {}
        self._progress: dict[int, int] = {}
        """Outbox id -> parts the channel already accepted (of a message cut short)."""

    def busy(self, address: str) -> bool:
        """Whether a delivery to this conversation is running or waiting."""
        return self._locks.busy(address)

    async def deliver(self, address: str, send: SendOne, fresh: Sequence[Outbound] = ()) -> int:
        """Send what waits for the conversation, then ``fresh``, in order; returns how many
        messages the channel accepted. Never raises: what could not be sent is kept."""
        async with self._locks.hold(address):
            try:
                pending = await self.store.run(
                    self.store.pending, self.channel, address, due_only=False
                )
            except Exception as error:  # the database: still try the fresh answer
                log.warning("%s: reading the outbox failed error=%s", self.channel, _kind(error))
                pending = Delivery((), ())
            sent = 0
            for index, (row_id, message) in enumerate(
                zip(pending.ids, pending.messages, strict=True)
            ):
                failure = await self._try(send, message, self._progress.get(row_id, 0))
                if failure is not None:
                    self._progress[row_id] = failure.parts_done
                    await self._keep(address, pending.ids[index:], fresh, 0, failure)
                    return sent
                self._progress.pop(row_id, None)
                sent += 1
                try:
                    await self.store.run(self.store.acknowledge, [row_id])
                except Exception as error:  # it may go again: better twice than never
                    log.warning("%s: acknowledging failed error=%s", self.channel, _kind(error))
            for index, message in enumerate(fresh):
                failure = await self._try(send, message, 0)
                if failure is not None:
                    await self._keep(address, (), fresh[index:], failure.parts_done, failure)
                    return sent
                sent += 1
            self._failures.pop(address, None)
            return sent

    async def _try(self, send: SendOne, message: Outbound, start: int) -> Undelivered | None:
        try:
            await send(message, start)
        except Undelivered as failure:
            return failure
        except Exception as error:  # a bug must not lose the message either
            return Undelivered(_kind(error), parts_done=start)
        return None

    async def _keep(
        self,
        address: str,
        ids: Sequence[int],
        fresh: Sequence[Outbound],
        fresh_parts_done: int,
        failure: Undelivered,
    ) -> None:
        """Keep what was not delivered: postponed (transient) or waiting for the citizen to
        write again (blocked)."""
        failures = self._failures[address] = self._failures.get(address, 0) + 1
        if failure.retry_after_s is not None:
            delay = timedelta(seconds=failure.retry_after_s)
        else:
            delay = backoff(failures, self.backoff_base_s, self.backoff_max_s)
        try:
            if failure.blocked:
                log.info("%s: the citizen blocked us; marked unreachable", self.channel)
                await self.store.run(self.store.mark_unreachable, self.channel, address, True)
                new = await self.store.run(
                    self.store.enqueue, self.channel, address, fresh, attempts=1
                )
            else:
                log.warning(
                    "%s: delivery failed error=%s; retry in %.0f s (%d in a row)",
                    self.channel,
                    failure.kind,
                    delay.total_seconds(),
                    failures,
                )
                await self.store.run(self.store.postpone, list(ids), delay)
                new = await self.store.run(
                    self.store.enqueue,
                    self.channel,
                    address,
                    fresh,
                    attempts=1,
                    retry_after=delay,
                )
        except Exception as error:
            log.error(
                "%s: keeping %d undelivered message(s) failed error=%s",
                self.channel,
                len(ids) + len(fresh),
                _kind(error),
            )
            return
        if new and fresh_parts_done:
            self._progress[new[0]] = fresh_parts_done


def _kind(error: BaseException) -> str:
    return type(error).__name__


class SupervisedLoop:
    """Runs ``step`` every ``interval_s`` seconds for as long as it is started. An exception
    (or a step that takes longer than ``step_timeout_s``) is logged by its kind, never its
    text, and the loop goes on after a back-off that doubles while it keeps failing."""

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[object]],
        interval_s: float,
        *,
        stale_after_s: float = 30.0,
        backoff_max_s: float = 60.0,
        step_timeout_s: float | None = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.stale_after_s = stale_after_s
        self.backoff_max_s = backoff_max_s
        self.step_timeout_s = step_timeout_s
        self.clock = clock
        self.failures = 0
        self.last_error: str | None = None
        self.last_ok: float | None = None
        self._started: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> SupervisedLoop:
        """Start the loop on the running event loop (once)."""
        if self._task is None:
            self._started = self.clock()
            self._task = asyncio.create_task(self._run(), name=f"loop:{self.name}")
        return self

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def alive(self) -> bool:
        """Whether the loop's task is running."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.step_timeout_s):  # not wait_for: on 3.11 it
                    await self.step()  # can swallow a cancellation that races the step's end
            except Exception as error:  # supervised: log the kind, back off, go on
                self.failures += 1
                self.last_error = _kind(error)
                wait = min(self.backoff_max_s, self.interval_s * 2**self.failures)
                log.warning(
                    "%s loop failed (%d in a row) error=%s; again in %.1f s",
                    self.name,
                    self.failures,
                    self.last_error,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            if self.failures:
                log.info("%s loop recovered after %d failure(s)", self.name, self.failures)
            self.failures, self.last_error = 0, None
            self.last_ok = self.clock()
            await asyncio.sleep(self.interval_s)

    def health(self) -> dict[str, object]:
        """ok: the loop runs and completed a step within ``stale_after_s`` (or was started
        that recently); with the seconds since its last completed step and its failures."""
        now = self.clock()
        since = None if self.last_ok is None else now - self.last_ok
        reference = self.last_ok if self.last_ok is not None else self._started
        fresh = reference is not None and now - reference <= self.stale_after_s
        report: dict[str, object] = {
            "ok": self.alive and fresh,
            "alive": self.alive,
            "last_run_s_ago": None if since is None else round(since, 1),
            "failures": self.failures,
        }
        if self.last_error is not None:
            report["error"] = self.last_error
        return report
