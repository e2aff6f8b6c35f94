"""Delivery on channels that push (Telegram, SMS): every reply reaches the citizen once, in order.

- A conversation's replies go out in order from its outbox (the router puts every answer on a
  channel that pushes there, in the step's transaction; los replies, read receipts, feedback
  questions and answers to recovered messages wait there too), oldest first, then any fresh
  message (the safe reply when even recording failed). An outbox message is acknowledged
  (``store.acknowledge``) only after the channel accepted every part of it.
- One delivery at a time per conversation, across processes too: the outbox messages are
  claimed for a lease (``store.claim_pending``, 30 s) that the delivery renews while it
  sends; a claim left by a crashed process runs out, and the next push sends them.
- A transient failure (a 5xx, a timeout or network error, a 429) stops the conversation's
  delivery there: what was not sent stays in the outbox (a fresh answer is put there) and is
  postponed with back-off, or by the 429's retry_after; the push loop sends it when it is due.
  Parts of a message the channel already accepted are not sent again (remembered in memory;
  after a restart the whole message goes again).
- Blocked (Telegram 403): the conversation is marked unreachable, so the los sees it, and
  everything stays in the outbox until the citizen writes again.
- Different conversations never wait for each other.

``SupervisedLoop`` runs a background step (a push loop, the router's pending work) every few
seconds; it survives any exception (logging its kind, never a text), backs off while it keeps
failing, and reports its health for ``/readyz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from itertools import groupby

from bot.locks import KeyedLocks
from bot.metrics import Metrics
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


RENEW_AFTER = 0.3
"""Once this share of the claim's lease has gone, the claim on what is left is renewed before
the next message (a send takes far less than the rest of the lease)."""

SendOne = Callable[[Outbound, int, str | None], Awaitable[None]]
"""Send one message from part ``start`` on, with its key (``outbox-<id>``; None for a fresh
message) for channels that can pass an idempotency reference on; raise ``Undelivered`` (with
the index of the first part not accepted as ``parts_done``) when the channel does not take
it."""


Render = Callable[[Sequence[Outbound], int], Sequence[Outbound]]
"""How a channel turns replies sent together into what it sends (SMS: plain text, choices
numbered across the replies to one message from the given number, the short form where
there is one)."""


def _as_they_are(messages: Sequence[Outbound], first: int = 1) -> Sequence[Outbound]:
    return messages


def render_together(delivery: Delivery, render: Render) -> tuple[Outbound, ...]:
    """The outbox messages rendered in runs that answer the same message, numbered as they
    were when answered: on after the choices of replies to it already delivered (a delivery
    cut short sends the rest numbered as the router recorded them); los replies and receipts
    each on their own."""
    rendered: list[Outbound] = []
    count = len(delivery.ids)
    runs = groupby(
        zip(
            delivery.messages,
            delivery.answering or (None,) * count,
            delivery.choices_before or (0,) * count,
            strict=True,
        ),
        key=lambda triple: triple[1],
    )
    for answering, run in runs:
        items = list(run)
        messages = [message for message, _, _ in items]
        if answering is None:
            rendered.extend(m for one in messages for m in render([one], 1))
        else:
            rendered.extend(render(messages, 1 + items[0][2]))
    return tuple(rendered)


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
        render: Render = _as_they_are,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 900.0,
        lease_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.channel = channel
        self.metrics = metrics if metrics is not None else Metrics()
        """Where accepted messages and failed deliveries are counted (the App's)."""
        self.render = render
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.lease = timedelta(seconds=lease_s)
        self.clock = clock
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
        sent = await self._deliver(address, send, fresh)
        self.metrics.pushed(self.channel, sent)
        return sent

    async def _deliver(self, address: str, send: SendOne, fresh: Sequence[Outbound]) -> int:
        async with self._locks.hold(address):
            claimed_at = self.clock()
            try:
                pending = await self.store.run(
                    self.store.claim_pending,
                    self.channel,
                    address,
                    lease=self.lease,
                    due_only=False,
                )
            except Exception as error:  # the database: still try the fresh answer
                log.warning("%s: reading the outbox failed error=%s", self.channel, _kind(error))
                pending = Delivery((), ())
            sent = 0
            messages = render_together(pending, self.render)
            for index, (row_id, message) in enumerate(zip(pending.ids, messages, strict=True)):
                if self.clock() - claimed_at > self.lease.total_seconds() * RENEW_AFTER:
                    if not await self._renew(pending.ids[index:]):
                        await self._hand_on(address, pending.ids[index:], fresh)
                        return sent
                    claimed_at = self.clock()
                start = self._progress.get(row_id, 0)
                failure = await self._try(send, message, start, f"outbox-{row_id}")
                if failure is not None:
                    self._progress[row_id] = failure.parts_done
                    await self._keep(address, pending.ids[index:], fresh, 0, failure)
                    return sent
                self._progress.pop(row_id, None)
                sent += 1
                try:
                    await self.store.acknowledge_now([row_id])
                except Exception as error:  # it may go again: better twice than never
                    log.warning("%s: acknowledging failed error=%s", self.channel, _kind(error))
            for index, message in enumerate(fresh):
                failure = await self._try(send, message, 0, None)
                if failure is not None:
                    await self._keep(address, (), fresh[index:], failure.parts_done, failure)
                    return sent
                sent += 1
            self._failures.pop(address, None)
            return sent

    async def _renew(self, ids: Sequence[int]) -> bool:
        """Hold the claim on what is still to send for another lease."""
        try:
            await self.store.run(self.store.extend_claim, list(ids), self.lease)
        except Exception as error:  # the claim may run out: stop before it does
            log.warning("%s: renewing the claim failed error=%s", self.channel, _kind(error))
            return False
        return True

    async def _hand_on(self, address: str, ids: Sequence[int], fresh: Sequence[Outbound]) -> None:
        """The lease is nearly over: let go of what was not sent (and keep any fresh message
        after it) for the next round, which claims them again."""
        try:
            await self.store.run(self.store.release, list(ids))
            await self.store.run(self.store.enqueue, self.channel, address, fresh)
        except Exception as error:  # the claim runs out by itself
            log.warning("%s: handing on failed error=%s", self.channel, _kind(error))

    async def _try(
        self, send: SendOne, message: Outbound, start: int, key: str | None
    ) -> Undelivered | None:
        try:
            await send(message, start, key)
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
        self.metrics.push_failed(self.channel, blocked=failure.blocked)
        if failure.retry_after_s is not None:
            delay = timedelta(seconds=failure.retry_after_s)
        else:
            delay = backoff(failures, self.backoff_base_s, self.backoff_max_s)
        try:
            if failure.blocked:
                log.info("%s: the citizen blocked us; marked unreachable", self.channel)
                await self.store.run(self.store.mark_unreachable, self.channel, address, True)
                await self.store.run(self.store.release, list(ids))
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
