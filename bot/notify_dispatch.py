"""Delivering staff notices: plan an e-mail and SMS delivery per notice and address, send the
due ones, retry with back-off, give up after ``notifications.retry_attempts``.

Several processes may run a dispatcher against one database: a delivery is claimed with one
atomic UPDATE before it is sent, so each is sent by one of them. (A process that dies after
sending but before recording it leaves the claim to expire: that delivery is sent again; at
least once, never twice by two live dispatchers.)

The database work (``bot/store/deliveries.py``) runs in worker threads
(``asyncio.to_thread``), as does smtplib; SMS go out with httpx. Texts come from the
catalogs (bokmål by default) and hold a kind, a case reference, the kind of danger, a time
and a link: never citizen text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock, system_clock
from bot.i18n import Catalogs
from bot.notifications import ON_CALL, is_urgent
from bot.notify_transports import (
    DeliveryError,
    EmailTransport,
    NoticeText,
    SmsTransport,
    Transport,
)
from bot.settings import Settings
from bot.store.accounts import Contact
from bot.store.deliveries import ClaimedDelivery, DeliveryRepo, Outcome
from bot.store.models import DeliveryStatus, DeliveryTransport
from flows.types import N_

log = logging.getLogger(__name__)

KIND_KEYS = {
    "new_case": N_("notice.kind.new_case"),
    "urgent_case": N_("notice.kind.urgent_case"),
    "crisis": N_("notice.kind.crisis"),
    "escalation": N_("notice.kind.escalation"),
    "urgent_escalation": N_("notice.kind.urgent_escalation"),
    "transferred": N_("notice.kind.transferred"),
    "invited": N_("notice.kind.invited"),
}
DANGER_KEYS = {
    "self_harm": N_("console.crisis.self_harm"),
    "violence_abuse": N_("console.crisis.violence_abuse"),
    "acute_danger": N_("console.crisis.acute_danger"),
    "homeless": N_("console.crisis.homeless"),
}
"""The kinds of danger a case can have (``Case.crisis_category``), as the console names them."""
BATCH = 50
MAX_PARALLEL_SENDS = 8


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def case_link(settings: Settings, reference: str | None) -> str:
    """The console page of the case (the queue when there is no case)."""
    base = settings.notifications.console_url.rstrip("/")
    return f"{base}/case/{reference}" if reference else base


def compose(
    catalogs: Catalogs,
    settings: Settings,
    language: str,
    kind: str,
    reference: str | None,
    danger: str | None,
    at: datetime,
) -> NoticeText:
    """A notice's e-mail and SMS text from the catalogs: kind, reference, danger, local time,
    link. Nothing the citizen wrote, nothing about how to reach them."""

    def t(key: str, **params: object) -> str:
        return catalogs(key, language, **params)

    local = _aware(at).astimezone(ZoneInfo(settings.municipality.timezone))
    kind_text = t(KIND_KEYS[kind]) if kind in KIND_KEYS else kind
    danger_text = t(DANGER_KEYS[danger]) if danger in DANGER_KEYS else None
    ref = reference or "-"
    time, date = f"{local:%H:%M}", f"{local:%d.%m.%Y}"
    url = case_link(settings, reference)
    lines = [
        t(N_("notice.body.case"), kind=kind_text, reference=ref),
        *([t(N_("notice.body.danger"), danger=danger_text)] if danger_text else []),
        t(N_("notice.body.at"), date=date, time=time),
        t(N_("notice.body.link"), url=url),
        "",
        t(N_("notice.body.privacy")),
    ]
    facts = {"kind": kind_text, "reference": ref, "time": time, "url": url}
    short = (
        t(N_("notice.sms_danger"), danger=danger_text, **facts)
        if danger_text
        else t(N_("notice.sms"), **facts)
    )
    return NoticeText(
        subject=t(N_("notice.subject"), kind=kind_text, reference=ref),
        body="\n".join(lines) + "\n",
        short=short,
    )


def roster_contacts(settings: Settings) -> Callable[[str], Contact | None]:
    """The roster's addresses in config.yml (for a dispatcher without staff accounts)."""
    members = {m.id: Contact(m.email, m.phone) for m in settings.roster.staff}
    return members.get


@dataclass(frozen=True)
class _Job:
    delivery: ClaimedDelivery
    text: NoticeText


@dataclass
class RunReport:
    """What one round did."""

    planned: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class Dispatcher:
    """Plans, sends and retries staff notice deliveries; safe to run in several processes."""

    def __init__(
        self,
        settings: Settings,
        deliveries: DeliveryRepo,
        catalogs: Catalogs,
        *,
        clock: Clock = system_clock,
        email: Transport | None = None,
        sms: Transport | None = None,
        contacts: Callable[[str], Contact | None] | None = None,
        language: str = "nb",
        claim_s: float | None = None,
        batch: int = BATCH,
    ) -> None:
        self.settings = settings
        self.deliveries = deliveries
        self.catalogs = catalogs
        self.clock = clock
        self.language = language
        self.batch = batch
        self.contacts = contacts or roster_contacts(settings)
        """Where a staff member's notices go: their account's addresses (``StaffAccounts.
        contact``: none for a disabled one); without a database, the roster's."""
        notes = settings.notifications
        self.transports: dict[str, Transport] = {
            DeliveryTransport.EMAIL: email or EmailTransport(notes.email, settings.smtp_password),
            DeliveryTransport.SMS: sms or SmsTransport(settings.sms, settings.sms_api_token),
        }
        self.claim = timedelta(seconds=claim_s or 4 * notes.email.timeout_s + 60)
        """How long a claimed delivery is ours: longer than a send can take."""
        self._stop = asyncio.Event()
        self._parallel = asyncio.Semaphore(MAX_PARALLEL_SENDS)

    # -- planning ------------------------------------------------------------------------

    def targets(self, staff_id: str, kind: str) -> list[tuple[DeliveryTransport, str]]:
        """Where a notice of this kind to this recipient goes: e-mail for every kind, SMS
        for urgent kinds (when ``notifications.sms``)."""
        notes = self.settings.notifications
        if staff_id == ON_CALL:
            on_call = self.settings.after_hours.on_call
            email, phone = on_call.email, on_call.sms
        else:
            contact = self.contacts(staff_id)
            email, phone = (contact.email, contact.phone) if contact else (None, None)
        found: list[tuple[DeliveryTransport, str]] = []
        if email and notes.email.enabled:
            found.append((DeliveryTransport.EMAIL, email))
        if phone and notes.sms and is_urgent(kind):
            found.append((DeliveryTransport.SMS, phone))
        return found

    def _plan(self) -> int:
        """Deliveries for notices not planned yet (each notice planned by one dispatcher)."""
        return self.deliveries.plan(self.targets, self.clock())

    # -- sending -------------------------------------------------------------------------

    def _claim_due(self) -> list[_Job]:
        """Claim due pending deliveries (of two dispatchers claiming the same one, one
        wins) and compose their texts."""
        now = self.clock()
        claimed = self.deliveries.claim_due(now, now + self.claim, self.batch)
        return [
            _Job(
                delivery,
                compose(
                    self.catalogs,
                    self.settings,
                    self.language,
                    delivery.kind,
                    delivery.reference,
                    delivery.danger,
                    delivery.created_at,
                ),
            )
            for delivery in claimed
        ]

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: retry_first_s doubling, capped."""
        notes = self.settings.notifications
        return timedelta(
            seconds=min(notes.retry_first_s * 2 ** max(attempts - 1, 0), notes.retry_max_s)
        )

    def _record(self, job: _Job, error: DeliveryError | None) -> str:
        """Record the outcome of an attempt; returns the new status (or "retrying")."""
        now = self.clock()
        attempts = job.delivery.attempts + 1
        if error is None:
            outcome, result = Outcome(DeliveryStatus.SENT), "sent"
        elif error.permanent or attempts >= self.settings.notifications.retry_attempts:
            outcome, result = Outcome(DeliveryStatus.FAILED, error.kind), "failed"
        else:
            retry_at = now + self.backoff(attempts)
            outcome, result = Outcome(DeliveryStatus.PENDING, error.kind, retry_at), "retrying"
        self.deliveries.record(job.delivery.id, attempts, outcome, now)
        return result

    async def _attempt(self, job: _Job) -> str:
        async with self._parallel:
            error: DeliveryError | None = None
            try:
                await self.transports[job.delivery.transport].send(job.delivery.target, job.text)
            except DeliveryError as failed:
                error = failed
            outcome = await asyncio.to_thread(self._record, job, error)
        if error is None:
            log.info("notice delivery %s sent by %s", job.delivery.id, job.delivery.transport)
        else:
            log.warning(
                "notice delivery %s by %s: %s (%s)",
                job.delivery.id,
                job.delivery.transport,
                error.kind,
                outcome,
            )
        return outcome

    async def run_once(self) -> RunReport:
        """Plan deliveries for new notices, then send what is due."""
        report = RunReport(planned=await asyncio.to_thread(self._plan))
        jobs = await asyncio.to_thread(self._claim_due)
        for outcome in await asyncio.gather(*(self._attempt(job) for job in jobs)):
            if outcome == "sent":
                report.sent += 1
            elif outcome == "failed":
                report.failed += 1
            else:
                report.retrying += 1
        return report

    async def run_forever(self, interval_s: float = 1.0) -> None:
        """Run rounds until ``stop()``; an error is logged by its kind (never its text) and
        the next round tries again."""
        while not self._stop.is_set():
            busy = False
            try:
                report = await self.run_once()
                busy = report.sent + report.retrying + report.failed >= self.batch
            except Exception as error:  # keep delivering; the kind only, never the text
                log.error("notice dispatch failed: %s", type(error).__name__)
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), interval_s)

    def stop(self) -> None:
        """Ask ``run_forever`` to return after the round in progress."""
        self._stop.set()

    async def aclose(self) -> None:
        """Close the transports' connections."""
        for transport in self.transports.values():
            await transport.aclose()
