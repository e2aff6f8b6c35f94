"""Staff notices are delivered: by e-mail to a real local SMTP server (aiosmtpd) and, when
urgent, by SMS through a faked gateway; retried with back-off on the app clock; given up
and shown as undelivered; sent once even with two dispatchers on one database. Never any
citizen text or contact details, always the case link."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, text

from bot.app import App, build_app
from bot.channels.sms import sms_parts
from bot.cli import _parser
from bot.i18n import Catalogs
from bot.notifications import NoticeKind
from bot.notify_dispatch import Dispatcher, RunReport, compose
from bot.notify_transports import EmailTransport, SmsTransport
from bot.settings import Settings
from bot.store.db import alembic_config, make_engine, make_sessionmaker
from bot.store.deliveries import DeliveryRepo
from bot.store.models import Case, NotificationDelivery, StaffNotification
from bot.web import create_web_app
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import free_port
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.test_crisis_reach import DANGER, PHASES, open_cases_of

CITIZEN_WORDS = "stefaren slår mamma og meg når han drikker"
CITIZEN_PHONE = "+4799887766"
KARI, AHMED, LEDER = (
    "kari@fjordvik.kommune.example",
    "ahmed@fjordvik.kommune.example",
    "leder@fjordvik.kommune.example",
)
ON_CALL_MAIL, ON_CALL_SMS = "barnevernvakt@fjordvik.kommune.example", "+4755102099"
PASSWORD = "notice-test-password"


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


@dataclass
class MailBox:
    """What the local SMTP server received."""

    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body()
        assert body is not None
        self.mails.append(
            Mail(list(envelope.rcpt_tos), str(message["Subject"]), body.get_content())
        )
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]


@dataclass
class Gateway:
    """A fake SMS gateway at the httpx transport: answers with the queued statuses, then 200."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    accepted: list[dict[str, str]] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        assert request.headers["authorization"] == "Bearer sms-token"
        self.requests.append(payload)
        await asyncio.sleep(0.005)  # a real gateway takes a moment: lets dispatchers overlap
        status = self.statuses.pop(0) if self.statuses else 200
        if status < 300:
            self.accepted.append(payload)
        return httpx.Response(status, json={})

    def to(self, number: str) -> list[str]:
        return [p["text"] for p in self.accepted if p["to"] == number]


@pytest.fixture
def mailbox() -> Iterator[tuple[MailBox, int]]:
    box, port = MailBox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def settings_(tmp_path: Path, mailbox: tuple[MailBox, int]) -> Settings:
    """The real config on a temp database, mailing the local SMTP server."""
    base = app_settings(tmp_path)
    notes = base.notifications
    return base.model_copy(
        update={
            "notifications": notes.model_copy(
                update={"email": notes.email.model_copy(update={"port": mailbox[1]})}
            )
        }
    )


@pytest.fixture
def app(settings_: Settings, clock: FakeClock, tmp_path: Path) -> App:
    return build_app(settings_, use_rasa=False, clock=clock, secret_file=tmp_path / "secret.key")


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


def dispatcher_for(
    settings: Settings,
    app: App,
    clock: FakeClock,
    gateway: Gateway,
    *,
    separate: bool = False,
    batch: int = 50,
) -> Dispatcher:
    sessions = (
        make_sessionmaker(make_engine(settings.database_url)) if separate else app.store.sessions
    )
    return Dispatcher(
        settings,
        DeliveryRepo(sessions),
        app.catalogs,
        clock=clock,
        sms=SmsTransport(settings.sms, "sms-token", transport=httpx.MockTransport(gateway)),
        contacts=app.router.staffing.accounts.contact if app.router.staffing.accounts else None,
        batch=batch,
    )


@pytest.fixture
async def dispatcher(
    settings_: Settings, app: App, clock: FakeClock, gateway: Gateway
) -> AsyncIterator[Dispatcher]:
    dispatcher = dispatcher_for(settings_, app, clock, gateway)
    yield dispatcher
    await dispatcher.aclose()


def open_case(app: App, reference: str, *, crisis: str | None = None) -> None:
    """A case with the citizen's own words and phone number, which no notice may contain."""
    with app.store.sessions.begin() as session:
        session.add(
            Case(
                reference=reference,
                channel="sms",
                status="open",
                urgent=crisis is not None,
                crisis_category=crisis,
                language="nb",
                contact="callback",
                callback=CITIZEN_PHONE,
                description=json.dumps([CITIZEN_WORDS]),
                created_at=app.router.clock(),
            )
        )


def raise_notice(app: App, kind: NoticeKind, reference: str) -> list[str]:
    with app.store.sessions.begin() as session:
        return app.router.notices.raise_notice(session, app.router.clock(), kind, reference)


def deliveries(app: App) -> list[NotificationDelivery]:
    with app.store.sessions() as session:
        return list(session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def pending(app: App) -> bool:
    return any(d.status == "pending" for d in deliveries(app))


async def test_an_urgent_notice_reaches_the_los_on_duty_and_the_leader_by_email_and_sms(
    app: App, dispatcher: Dispatcher, mailbox: tuple[MailBox, int], gateway: Gateway
) -> None:
    open_case(app, "K-URG001", crisis="violence_abuse")
    # Tuesday 10:30 in Oslo: the office is open and Ahmed is on duty.
    assert raise_notice(app, NoticeKind.URGENT_CASE, "K-URG001") == ["ahmed", "leder"]

    report = await dispatcher.run_once()

    assert (report.planned, report.sent, report.failed) == (4, 4, 0)
    box, _ = mailbox
    for address, number in ((AHMED, "+4790000002"), (LEDER, "+4790000003")):
        [mail] = box.to(address)
        assert mail.subject == "Inngang: Hastesak K-URG001"
        assert "http://127.0.0.1:8080/staff/case/K-URG001" in mail.body
        assert "Fare: vold eller overgrep" in mail.body and "kl. 10:30" in mail.body
        [sms] = gateway.to(number)
        assert sms == (
            "Inngang: Hastesak (vold eller overgrep). Sak K-URG001, kl. 10:30. "
            "http://127.0.0.1:8080/staff/case/K-URG001"
        )
        assert len(sms_parts(sms, 8)) == 1
        for sent in (mail.subject, mail.body, sms):
            assert CITIZEN_WORDS not in sent and "stefaren" not in sent
            assert CITIZEN_PHONE not in sent and "99887766" not in sent
    assert box.to(KARI) == [] and box.to(ON_CALL_MAIL) == []  # Kari is off duty; office open
    assert {d.status for d in deliveries(app)} == {"sent"}
    assert (await dispatcher.run_once()).sent == 0  # nothing twice


async def test_a_normal_notice_goes_by_email_only(
    app: App, dispatcher: Dispatcher, mailbox: tuple[MailBox, int], gateway: Gateway
) -> None:
    open_case(app, "K-NEW001")
    assert raise_notice(app, NoticeKind.NEW_CASE, "K-NEW001") == ["ahmed"]

    await dispatcher.run_once()

    [mail] = mailbox[0].mails
    assert mail.to == [AHMED] and mail.subject == "Inngang: Ny sak K-NEW001"
    assert "Fare" not in mail.body
    assert gateway.requests == []
    assert [d.transport for d in deliveries(app)] == ["email"]


async def test_the_on_call_target_gets_urgent_notices_when_the_office_is_closed(
    app: App,
    dispatcher: Dispatcher,
    mailbox: tuple[MailBox, int],
    gateway: Gateway,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2026, 11, 24, 20, 14, tzinfo=UTC)  # Tuesday 21:14 in Oslo
    open_case(app, "K-NIGHT1", crisis="self_harm")
    assert "on-call" in raise_notice(app, NoticeKind.URGENT_CASE, "K-NIGHT1")

    await dispatcher.run_once()

    [mail] = mailbox[0].to(ON_CALL_MAIL)
    assert "kl. 21:14" in mail.body and "selvmordstanker eller selvskading" in mail.body
    [sms] = gateway.to(ON_CALL_SMS)
    assert "kl. 21:14" in sms and sms.endswith("/staff/case/K-NIGHT1")


async def test_a_gateway_502_is_retried_with_back_off_and_delivered_once(
    app: App, dispatcher: Dispatcher, gateway: Gateway, clock: FakeClock
) -> None:
    open_case(app, "K-RETRY1", crisis="acute_danger")
    raise_notice(app, NoticeKind.URGENT_CASE, "K-RETRY1")
    gateway.statuses = [502]  # the first SMS meets a 502, everything after a 200

    first = await dispatcher.run_once()
    assert (first.sent, first.retrying) == (3, 1)
    [waiting] = [d for d in deliveries(app) if d.status == "pending"]
    assert (waiting.attempts, waiting.last_error_kind) == (1, "HTTP 502")

    assert (await dispatcher.run_once()).sent == 0  # not due before the back-off
    clock.advance(seconds=app.settings.notifications.retry_first_s)
    assert (await dispatcher.run_once()).sent == 1

    target = waiting.target
    assert len([p for p in gateway.requests if p["to"] == target]) == 2
    assert len(gateway.to(target)) == 1
    done = next(d for d in deliveries(app) if d.id == waiting.id)
    assert (done.status, done.attempts) == ("sent", 2)


def test_back_off_doubles_from_the_first_wait_up_to_the_cap(dispatcher: Dispatcher) -> None:
    notes = dispatcher.settings.notifications
    waits = [dispatcher.backoff(n).total_seconds() for n in range(1, 10)]
    assert waits[:3] == [notes.retry_first_s, 2 * notes.retry_first_s, 4 * notes.retry_first_s]
    assert max(waits) == notes.retry_max_s
    assert waits == sorted(waits)


async def test_transient_failures_end_as_failed_after_the_configured_attempts(
    settings_: Settings, app: App, clock: FakeClock, gateway: Gateway
) -> None:
    notes = settings_.notifications.model_copy(update={"retry_attempts": 3})
    settings = settings_.model_copy(update={"notifications": notes})
    dead = EmailTransport(notes.email.model_copy(update={"port": free_port()}), None)
    dispatcher = Dispatcher(
        settings, DeliveryRepo(app.store.sessions), app.catalogs, clock=clock, email=dead
    )
    open_case(app, "K-DOWN01")
    raise_notice(app, NoticeKind.NEW_CASE, "K-DOWN01")

    for _ in range(3):
        await dispatcher.run_once()
        clock.advance(seconds=notes.retry_max_s)

    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error_kind == "ConnectionRefusedError"  # the kind, never the text


async def test_a_permanent_failure_is_not_retried_and_shows_as_undelivered(
    app: App,
    dispatcher: Dispatcher,
    gateway: Gateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import staff_cli

    open_case(app, "K-PERM01", crisis="homeless")
    raise_notice(app, NoticeKind.URGENT_CASE, "K-PERM01")
    gateway.statuses = [400, 400]  # the gateway refuses both SMS: a wrong number, say

    report = await dispatcher.run_once()

    assert (report.sent, report.failed, report.retrying) == (2, 2, 0)
    failed = [d for d in deliveries(app) if d.status == "failed"]
    assert {(d.transport, d.attempts, d.last_error_kind) for d in failed} == {
        ("sms", 1, "HTTP 400")
    }

    web = create_web_app(app, staff_password=PASSWORD)
    async with StaffBrowser(web) as console:
        await console.sign_in("ahmed", PASSWORD)
        page = (await console.get("/staff")).text
    assert 'data-live="/staff/queue.json"' in page  # console.js keeps the queue up to date
    assert re.search(r'<tr class="urgent" data-notice="\d+">\s*<th scope="row">Hastesak</th>', page)
    assert '<a href="/staff/case/K-PERM01">K-PERM01</a>' in page
    assert "e-post: sendt, SMS: <strong>ikke levert</strong>" in page
    assert "24.11.2026 kl. 10:30 CET" in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/console.js" defer>']

    signed_in_as(app, "ahmed", monkeypatch)
    assert (
        staff_cli.run(app, _parser().parse_args(["queue", "notifications", "--as", "ahmed"])) == 0
    )
    [notice] = json.loads(capsys.readouterr().out)
    assert notice["reference"] == "K-PERM01" and notice["urgent"] is True
    assert notice["delivery"] == {"email": "sent", "sms": "failed (undelivered)"}
    assert notice["undelivered"] is True
    staff_cli.run(app, _parser().parse_args(["queue", "notifications", "--as", "ahmed"]))
    assert json.loads(capsys.readouterr().out) == []  # each notice is listed once


async def test_a_pending_retry_shows_its_attempts(
    app: App,
    dispatcher: Dispatcher,
    gateway: Gateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import staff_cli

    open_case(app, "K-WAIT01", crisis="self_harm")
    raise_notice(app, NoticeKind.URGENT_CASE, "K-WAIT01")
    gateway.statuses = [503, 503]
    await dispatcher.run_once()
    signed_in_as(app, "leder", monkeypatch)
    staff_cli.run(app, _parser().parse_args(["queue", "notifications", "--as", "leder"]))
    [notice] = json.loads(capsys.readouterr().out)
    assert notice["delivery"] == {"email": "sent", "sms": "pending (1 attempt)"}
    assert notice["undelivered"] is False


async def test_two_dispatchers_on_one_database_send_each_delivery_once(
    settings_: Settings,
    app: App,
    clock: FakeClock,
    gateway: Gateway,
    mailbox: tuple[MailBox, int],
) -> None:
    references = [f"K-TWO{n:03}" for n in range(12)]
    for reference in references:
        open_case(app, reference, crisis="violence_abuse")
        raise_notice(app, NoticeKind.URGENT_CASE, reference)
    # Two processes' dispatchers (each its own engine), small batches, running at once.
    one, two = (
        dispatcher_for(settings_, app, clock, gateway, separate=True, batch=3) for _ in range(2)
    )

    async def drain(dispatcher: Dispatcher) -> RunReport:
        total = RunReport()
        while True:
            report = await dispatcher.run_once()
            total.planned += report.planned
            total.sent += report.sent
            if not (report.planned or report.sent or pending(app)):
                return total

    try:
        reports = await asyncio.gather(drain(one), drain(two))
    finally:
        await one.aclose()
        await two.aclose()

    expected = len(references) * 4  # Ahmed and the leader, by e-mail and SMS
    assert sum(r.planned for r in reports) == expected
    assert sum(r.sent for r in reports) == expected
    assert reports[0].sent and reports[1].sent  # both took part
    sms = [(p["to"], p["text"]) for p in gateway.requests]
    mails = [(tuple(m.to), m.subject) for m in mailbox[0].mails]
    assert len(sms) == len(set(sms)) == expected // 2
    assert len(mails) == len(set(mails)) == expected // 2
    assert len(deliveries(app)) == expected


async def test_a_claimed_delivery_is_not_taken_until_its_claim_expires(
    settings_: Settings, app: App, clock: FakeClock, gateway: Gateway
) -> None:
    open_case(app, "K-CLAIM1")
    raise_notice(app, NoticeKind.NEW_CASE, "K-CLAIM1")
    one = dispatcher_for(settings_, app, clock, gateway, separate=True)
    two = dispatcher_for(settings_, app, clock, gateway, separate=True)
    await one.run_once()  # plans and sends, so make the delivery pending again
    with app.store.sessions.begin() as session:
        session.execute(
            NotificationDelivery.__table__.update().values(status="pending", sent_at=None)
        )
    [job] = await asyncio.to_thread(one._claim_due)  # one claims it, then "dies"
    assert await asyncio.to_thread(two._claim_due) == []
    clock.advance(seconds=one.claim.total_seconds() + 1)
    [taken] = await asyncio.to_thread(two._claim_due)
    assert taken.delivery.id == job.delivery.id
    await one.aclose()
    await two.aclose()


async def test_one_notice_per_case_and_kind_within_the_repeat_window(
    app: App, dispatcher: Dispatcher, mailbox: tuple[MailBox, int], clock: FakeClock
) -> None:
    open_case(app, "K-REP001", crisis="violence_abuse")
    assert raise_notice(app, NoticeKind.URGENT_CASE, "K-REP001") == ["ahmed", "leder"]
    clock.advance(minutes=5)
    assert raise_notice(app, NoticeKind.URGENT_CASE, "K-REP001") == []
    assert raise_notice(app, NoticeKind.CRISIS, "K-REP001") == []  # the same danger
    await dispatcher.run_once()
    assert len(mailbox[0].to(AHMED)) == 1

    clock.advance(minutes=app.settings.notifications.repeat_after_minutes)
    assert raise_notice(app, NoticeKind.CRISIS, "K-REP001") == ["ahmed", "leder"]
    await dispatcher.run_once()
    assert [m.subject for m in mailbox[0].to(AHMED)] == [
        "Inngang: Hastesak K-REP001",
        "Inngang: Akutt: fare i åpen sak K-REP001",
    ]


async def test_run_forever_survives_errors_and_stops_cleanly(
    app: App, dispatcher: Dispatcher, mailbox: tuple[MailBox, int], caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0
    real = dispatcher.run_once

    async def flaky() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("secret citizen words")
        return await real()

    dispatcher.run_once = flaky  # type: ignore[method-assign]
    open_case(app, "K-LOOP01")
    raise_notice(app, NoticeKind.NEW_CASE, "K-LOOP01")
    task = asyncio.create_task(dispatcher.run_forever(interval_s=0.01))
    for _ in range(200):
        if mailbox[0].mails:
            break
        await asyncio.sleep(0.01)
    dispatcher.stop()
    await asyncio.wait_for(task, 2)
    assert len(mailbox[0].mails) == 1
    assert "RuntimeError" in caplog.text and "secret citizen words" not in caplog.text


def test_every_kind_has_a_short_gsm_sms(settings: Settings, catalogs: Catalogs) -> None:
    at = datetime(2026, 11, 24, 20, 14, tzinfo=UTC)
    long_url = settings.model_copy(
        update={
            "notifications": settings.notifications.model_copy(
                update={"console_url": "https://inngang.fjordvik.kommune.no/staff"}
            )
        }
    )
    for kind in NoticeKind:
        for danger in (None, "self_harm", "violence_abuse", "acute_danger", "homeless"):
            notice = compose(catalogs, long_url, "nb", str(kind), "K-7KQ2MX", danger, at)
            assert len(sms_parts(notice.short, 8)) <= 2, notice.short
            assert "kl. 21:14" in notice.short and notice.short.endswith("/case/K-7KQ2MX")
            assert not notice.short.startswith("(1/")  # one GSM message where it fits
            assert "notice." not in notice.body + notice.short  # every key is in the catalog


def test_the_upgrade_does_not_send_notices_left_before_it(tmp_path: Path) -> None:
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_notifications (staff_id, kind, case_reference, created_at) "
                "VALUES ('kari', 'new_case', 'K-OLD001', '2026-11-20 10:00:00')"
            )
        )
    command.upgrade(alembic_config(engine), "head")
    with make_sessionmaker(engine)() as session:
        [old] = session.scalars(select(StaffNotification))
        assert old.deliveries_planned_at is not None
    command.downgrade(alembic_config(engine), "0004")
    command.upgrade(alembic_config(engine), "head")


def signed_in_as(app: App, staff_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI acts only for the owner of a personal token (issued by an operator)."""
    from bot.staff_auth import issue_token

    token = issue_token(app.staff_records, staff_id, app.router.clock())
    monkeypatch.setenv("INNGANG_STAFF_TOKEN", token)


@pytest.mark.parametrize("phase", list(PHASES))
async def test_in_every_phase_the_los_and_the_leader_get_an_email_and_an_sms(
    app: App,
    dispatcher: Dispatcher,
    mailbox: tuple[MailBox, int],
    gateway: Gateway,
    phase: str,
) -> None:
    citizen = Citizen(app, f"citizen-{phase}")
    await PHASES[phase](citizen, app)
    await citizen.says(DANGER)
    await dispatcher.run_once()
    box, _ = mailbox
    [case] = open_cases_of(app, citizen)
    for email, phone in (
        ("ahmed@fjordvik.kommune.example", "+4790000002"),
        ("leder@fjordvik.kommune.example", "+4790000003"),
    ):
        mails = [m for m in box.to(email) if case.reference in m.subject]
        texts = [t for t in gateway.to(phone) if case.reference in t]
        assert mails and texts, (phase, email)
        assert all(DANGER not in m.body and DANGER not in m.subject for m in mails)
        assert all(DANGER not in t for t in texts)


async def test_the_accounts_decide_who_is_told_a_leader_added_later_is_and_a_disabled_one_not(
    app: App, dispatcher: Dispatcher, mailbox: tuple[MailBox, int], gateway: Gateway
) -> None:
    """The roster only seeds the accounts: a leader added with `inngang staff add --email
    --phone` gets urgent notices at those addresses; a disabled leader and a disabled los on
    the roster's duty get nothing."""
    accounts = app.router.staffing.accounts
    assert accounts is not None
    now = app.router.clock()
    accounts.save("nina", "Nina Leder", "leader", None, now)
    accounts.set_contact("nina", "nina@fjordvik.kommune.example", "+4790000009", now)
    accounts.disable("leder", now)
    accounts.disable("ahmed", now)  # on duty on Tuesdays
    open_case(app, "K-URG002", crisis="self_harm")

    told = raise_notice(app, NoticeKind.URGENT_CASE, "K-URG002")

    assert told == ["nina", "on-call"]  # nobody on duty now: the on-call target too
    await dispatcher.run_once()
    box, _ = mailbox
    assert [m.subject for m in box.to("nina@fjordvik.kommune.example")] == [
        "Inngang: Hastesak K-URG002"
    ]
    assert gateway.to("+4790000009") and not gateway.to("+4790000003")
    assert box.to(LEDER) == [] and box.to(AHMED) == []


def test_staff_add_takes_the_addresses_and_refuses_what_is_none(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.store.accounts import Contact
    from tests.test_staff_access import cli

    nina = ["staff", "add", "nina", "--name", "Nina", "--role", "leader"]
    email, phone = "nina@fjordvik.kommune.example", "+47 900 00 009"
    assert cli(app, *nina, "--email", email, "--phone", phone) == 0
    accounts = app.router.staffing.accounts
    assert accounts is not None
    assert accounts.contact("nina") == Contact(email, phone)
    assert cli(app, *nina, "--email", "not an address") == 1
    assert "--email: not an address is not an e-mail address" in capsys.readouterr().err
    assert accounts.contact("nina") == Contact(email, phone)  # nothing changed
    assert accounts.contact("kari") == Contact("kari@fjordvik.kommune.example", "+4790000001")
