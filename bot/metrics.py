"""The application's Prometheus metrics, in a registry of its own (one per App, never the
process-wide default): counts, latencies and queue figures only.

No label or value ever carries message text, a conversation or case id, a phone number or a
name: the labels are closed vocabularies (the channel, the understanding's source, whether a
case is urgent, a loop's name, why a push failed), and anything outside them is counted as
``other``.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from bot.store.operating import OperatingFigures

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format ``exposition()`` writes."""
CHANNELS = frozenset({"web", "telegram", "sms", "whatsapp", "terminal", "jsonl"})
SOURCES = frozenset({"rasa", "local", "fallback", "none"})
UNDERSTANDING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0)
"""Seconds: the offline matcher takes ~10-20 ms, Rasa tens of ms, its timeout 1.5 s."""
URGENCY = (("true", True), ("false", False))


def _known(value: str, known: frozenset[str]) -> str:
    return value if value in known else "other"


class Metrics:
    """Counters and histograms the running parts update, and gauges set from the store's
    figures at scrape time (``observe_figures``), in ``registry``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._inbound = Counter(
            "inngang_inbound_messages",
            "Messages from citizens handed to the router, by channel.",
            ["channel"],
            registry=registry,
        )
        self._understanding = Histogram(
            "inngang_understanding_seconds",
            "Time to understand one message (crisis check, language, intent), by the source "
            "of the intent: rasa, fallback (the offline matcher) or none.",
            ["source"],
            buckets=UNDERSTANDING_BUCKETS,
            registry=registry,
        )
        self._pushed = Counter(
            "inngang_push_sent_messages",
            "Messages a push channel accepted (Telegram, SMS, WhatsApp), by channel.",
            ["channel"],
            registry=registry,
        )
        self._push_failures = Counter(
            "inngang_push_failures",
            "Deliveries a push channel did not accept, by channel and reason: retry (kept in "
            "the outbox, sent again after a back-off) or blocked (the citizen blocked us).",
            ["channel", "reason"],
            registry=registry,
        )
        self._queue_open = Gauge(
            "inngang_queue_unclaimed_cases",
            "Open cases no los has claimed yet, by urgency (at scrape time).",
            ["urgent"],
            registry=registry,
        )
        self._queue_oldest = Gauge(
            "inngang_queue_oldest_waiting_seconds",
            "How long the oldest unclaimed case has waited, by urgency (0 when none waits).",
            ["urgent"],
            registry=registry,
        )
        self._queue_late = Gauge(
            "inngang_queue_over_target_cases",
            "Unclaimed cases that have waited longer than queue.target_minutes "
            "(urgent: queue.urgent_target_minutes), by urgency.",
            ["urgent"],
            registry=registry,
        )
        self._notices_waiting = Gauge(
            "inngang_notifications_undelivered",
            "Staff notice deliveries (e-mail, SMS) not sent yet, retries included.",
            registry=registry,
        )
        self._notices_failed = Gauge(
            "inngang_notifications_failed",
            "Staff notice deliveries given up after every retry (kept until retention).",
            registry=registry,
        )
        self._outbox = Gauge(
            "inngang_outbox_undelivered_messages",
            "Replies waiting in the outbox, by channel: for a push channel to send, or for the "
            "web chat to fetch.",
            ["channel"],
            registry=registry,
        )
        self._nlu = Gauge(
            "inngang_nlu_available",
            "1 while the Rasa server is used, 0 while the offline matcher answers alone.",
            registry=registry,
        )
        self._loops = Gauge(
            "inngang_loop_healthy",
            "1 when a supervised background loop runs and completed a step recently.",
            ["loop"],
            registry=registry,
        )
        ProcessCollector(registry=registry)  # memory, CPU, open files of this process

    def inbound(self, channel: str) -> None:
        """A citizen's message reached the router."""
        self._inbound.labels(_known(channel, CHANNELS)).inc()

    def understood(self, seconds: float, source: str) -> None:
        """One understanding step took ``seconds``."""
        self._understanding.labels(_known(source, SOURCES)).observe(seconds)

    def pushed(self, channel: str, messages: int = 1) -> None:
        """A push channel accepted ``messages`` messages."""
        if messages > 0:
            self._pushed.labels(_known(channel, CHANNELS)).inc(messages)

    def push_failed(self, channel: str, *, blocked: bool) -> None:
        """A push channel did not accept a delivery."""
        reason = "blocked" if blocked else "retry"
        self._push_failures.labels(_known(channel, CHANNELS), reason).inc()

    def observe_figures(self, figures: OperatingFigures) -> None:
        """Set the gauges read from the store."""
        for label, urgent in URGENCY:
            queue = figures.urgent if urgent else figures.normal
            self._queue_open.labels(label).set(queue.unclaimed)
            self._queue_oldest.labels(label).set(queue.oldest_waiting_s)
            self._queue_late.labels(label).set(queue.over_target)
        self._notices_waiting.set(figures.notifications_undelivered)
        self._notices_failed.set(figures.notifications_failed)
        waiting = dict.fromkeys(CHANNELS, 0)
        for channel, count in figures.outbox_undelivered.items():
            label = _known(channel, CHANNELS)
            waiting[label] = waiting.get(label, 0) + count
        for channel, count in waiting.items():
            self._outbox.labels(channel).set(count)

    def observe_health(self, nlu: bool, loops: Mapping[str, bool]) -> None:
        """Set the NLU and loop gauges."""
        self._nlu.set(1 if nlu else 0)
        for name, healthy in loops.items():
            self._loops.labels(name).set(1 if healthy else 0)

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)
