"""SMS through a local fake gateway: signed webhooks in, httpx POSTs out. No internet."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.channels.sms import SmsChannel, sign, sms_parts
from bot.settings import SmsSettings
from bot.store.models import Outbox
from bot.web import _push_sms, create_web_app
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import eventually

SECRET = "gateway-shared-secret"
NUMBER = "+4791234567"


class FakeGateway:
    """Records what the application POSTs to the gateway's outbound URL; ``statuses`` are the
    answers to the next POSTs (202 when empty), and only accepted parts count as sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.auth: list[str | None] = []
        self.statuses: list[int] = []
        self.posts = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        status = self.statuses.pop(0) if self.statuses else 202
        if status >= 300:
            headers = {"Retry-After": "30"} if status == 429 else {}
            return httpx.Response(status, headers=headers, json={"error": "unavailable"})
        self.sent.append(json.loads(request.content))
        self.auth.append(request.headers.get("authorization"))
        return httpx.Response(status, json={"id": f"out-{len(self.sent)}"})

    def texts(self) -> list[str]:
        return [m["text"] for m in self.sent]


Gateway = tuple[FakeGateway, httpx.AsyncClient, SmsChannel]


@pytest.fixture
async def gateway(offline_app: App) -> AsyncIterator[Gateway]:
    fake = FakeGateway()
    channel = SmsChannel(
        offline_app.router,
        SmsSettings(enabled=True),
        SECRET,
        "api-token",
        transport=httpx.MockTransport(fake.handler),
    )
    web = create_web_app(offline_app, sms=channel)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang"
    ) as client:
        yield fake, client, channel
    await channel.aclose()


async def deliver(
    client: httpx.AsyncClient,
    text: str,
    message_id: str,
    *,
    secret: str = SECRET,
    age_s: int = 0,
    signed: bool = True,
) -> httpx.Response:
    body = json.dumps({"from": NUMBER, "text": text, "id": message_id}).encode()
    timestamp = str(int(time.time()) - age_s)
    headers = {"content-type": "application/json", "X-Timestamp": timestamp}
    if signed:
        headers["X-Signature"] = sign(secret, timestamp, body)
    return await client.post("/sms/inbound", content=body, headers=headers)


async def test_a_parent_texts_the_one_number_and_gets_the_answer_by_sms(gateway: Gateway) -> None:
    fake, client, _ = gateway
    response = await deliver(client, "hvor er helsestasjonen?", "m1")
    assert response.status_code == 200
    assert all(m["to"] == NUMBER and m["from"] == "Inngang" for m in fake.sent)
    assert fake.auth[0] == "Bearer api-token"
    joined = " ".join(fake.texts())
    assert "55 10 20 01" in joined and "1. Snakk med en person" in joined
    assert all(len(t) <= 153 for t in fake.texts())
    assert fake.texts()[0].startswith("(1/")


async def test_numbered_choices_work_by_sms(gateway: Gateway) -> None:
    fake, client, _ = gateway
    await deliver(client, "hei", "m1")
    await deliver(client, "1", "m2")  # "1. Snakk med en person"
    assert "hvem gjelder det" in " ".join(fake.texts())


async def test_unsigned_forged_and_old_webhooks_are_rejected(
    gateway: Gateway, offline_app: App
) -> None:
    fake, client, _ = gateway
    assert (await deliver(client, "hei", "m1", signed=False)).status_code == 401
    assert (await deliver(client, "hei", "m2", secret="guess")).status_code == 401
    assert (await deliver(client, "hei", "m3", age_s=3600)).status_code == 401
    assert fake.sent == [] and offline_app.store.unhandled_inbound() == []
    assert offline_app.queue.open_cases("kari") == []


async def test_a_replayed_webhook_is_not_answered_twice(gateway: Gateway) -> None:
    fake, client, _ = gateway
    await deliver(client, "hei", "same-id")
    count = len(fake.sent)
    replay = await deliver(client, "hei", "same-id")
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert len(fake.sent) == count


async def test_a_los_reply_goes_out_by_sms(gateway: Gateway, offline_app: App) -> None:
    fake, client, channel = gateway
    await deliver(client, "/anonym", "m1")
    await deliver(client, "Hvordan søker jeg om støtte til fritidsaktiviteter?", "m2")
    [item] = offline_app.queue.open_cases("kari")
    assert item.channel == "sms"
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Du kan søke om fritidskortet på nett.")
    assert await channel.push_pending() == 1
    assert fake.texts()[-1] == "Du kan søke om fritidskortet på nett."


def test_long_and_unicode_texts_are_split_into_numbered_parts() -> None:
    gsm = sms_parts("ord " * 100, 8)
    assert len(gsm) > 1 and all(len(p) <= 153 for p in gsm) and gsm[0].startswith("(1/")
    arabic = sms_parts("مرحبا " * 40, 8)
    assert all(len(p) <= 67 for p in arabic)
    assert sms_parts("kort svar", 8) == ["kort svar"]
    assert len(sms_parts("ord " * 2000, 3)) == 3


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("jeg vil ikke leve lenger", "nb"),
        ("I want to kill myself tonight", "en"),
        ("не хочу більше жити", "uk"),
        ("أريد أن أنهي حياتي", "ar"),
        ("ojczym mnie bije codziennie", "pl"),
    ],
)
async def test_a_crisis_by_sms_gets_the_numbers_first_in_two_sms_and_a_case(
    gateway: Gateway, offline_app: App, text: str, language: str
) -> None:
    fake, client, _ = gateway
    await deliver(client, text, "c1")
    texts = fake.texts()
    answer = [t for t in texts if "11" in t.split("K-")[0]]
    assert answer and re.search(r"\b11[23]\b", texts[0])  # the numbers come first
    parts_of_first = [t for t in texts if t.startswith("(")]  # numbered parts, if split
    assert len(parts_of_first) <= 4  # answer and case note: at most two SMS each
    assert not any(re.search(r"trykk|press|knapp|button", t, re.I) for t in texts)
    [item] = offline_app.queue.open_cases("kari")
    assert item.priority == "urgent" and item.channel == "sms"
    assert any(item.reference in t for t in texts)


def waiting(app: App) -> list[tuple[str, int]]:
    """(text, attempts) of outbox messages not yet delivered, oldest first."""
    with app.store.sessions() as session:
        rows = session.scalars(
            select(Outbox).where(Outbox.delivered_at.is_(None)).order_by(Outbox.id)
        ).all()
        return [(r.text, r.attempts) for r in rows]


async def test_a_gateway_failure_keeps_the_answer_and_it_goes_out_once(
    gateway: Gateway, offline_app: App, clock: FakeClock
) -> None:
    fake, client, channel = gateway
    fake.statuses = [502]
    response = await deliver(client, "jeg vil ikke leve lenger", "c1")
    assert response.status_code == 200 and fake.sent == []
    kept = waiting(offline_app)
    assert kept and re.search(r"\b11[23]\b", kept[0][0])  # the short crisis form waits
    assert await channel.push_pending() == 0  # postponed: not before its back-off
    clock.advance(seconds=30)
    assert await channel.push_pending() == len(kept)
    assert waiting(offline_app) == []
    texts = fake.texts()
    assert re.search(r"\b11[23]\b", texts[0]) and len(texts) == len(set(texts))
    clock.advance(seconds=30)
    assert await channel.push_pending() == 0


async def test_a_part_the_gateway_took_is_not_sent_again(
    gateway: Gateway, offline_app: App, clock: FakeClock
) -> None:
    fake, client, channel = gateway
    fake.statuses = [202, 503]  # the first part goes, the second fails
    await deliver(client, "hvor er helsestasjonen?", "m1")
    assert len(fake.sent) == 1 and fake.texts()[0].startswith("(1/")
    clock.advance(seconds=30)
    await channel.push_pending()
    texts = fake.texts()
    assert texts[0].startswith("(1/") and texts[1].startswith("(2/")
    assert len(texts) == len(set(texts)) and waiting(offline_app) == []
    assert "55 10 20 01" in " ".join(texts)


async def test_a_429_is_retried_after_its_retry_after(
    gateway: Gateway, offline_app: App, clock: FakeClock
) -> None:
    fake, client, channel = gateway
    fake.statuses = [429]
    await deliver(client, "hei", "m1")
    assert fake.sent == [] and waiting(offline_app)
    clock.advance(seconds=20)
    assert await channel.push_pending() == 0  # Retry-After: 30
    clock.advance(seconds=11)
    assert await channel.push_pending() == 1 and waiting(offline_app) == []


async def test_a_gateway_retry_of_a_webhook_is_answered_once(
    gateway: Gateway, offline_app: App, clock: FakeClock
) -> None:
    fake, client, channel = gateway
    fake.statuses = [500]
    await deliver(client, "hei", "same-id")  # our answer failed; the gateway retries too
    replay = await deliver(client, "hei", "same-id")  # not handled again; what waits goes
    assert replay.json() == {"status": "duplicate"}
    clock.advance(seconds=30)
    await channel.push_pending()
    texts = fake.texts()  # the one answer, each of its parts once
    assert [t[:5] for t in texts] == ["(1/2)", "(2/2)"] and waiting(offline_app) == []
    assert offline_app.store.unhandled_inbound() == []


async def test_after_a_restart_a_los_reply_goes_out_without_the_citizen_writing(
    gateway: Gateway, offline_app: App, tmp_path: Path, clock: FakeClock
) -> None:
    fake, client, _ = gateway
    await deliver(client, "/anonym", "m1")
    await deliver(client, "Hvordan søker jeg om støtte til fritidsaktiviteter?", "m2")
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Du kan søke om fritidskortet på nett.")
    restarted = build_app(  # a new process: nothing in memory, the same database
        app_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key"
    )
    channel = SmsChannel(
        restarted.router,
        SmsSettings(enabled=True),
        SECRET,
        "api-token",
        transport=httpx.MockTransport(fake.handler),
    )
    try:
        assert await channel.push_pending() >= 1
    finally:
        await channel.aclose()
    assert fake.sent[-1] == {
        "to": NUMBER,
        "text": "Du kan søke om fritidskortet på nett.",
        "from": "Inngang",
        "reference": fake.sent[-1]["reference"],  # outbox-<id>-1: a repeat can be dropped
    }
    assert waiting(restarted) == []


async def test_the_sms_push_loop_survives_a_database_error(
    gateway: Gateway, offline_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, client, channel = gateway
    await deliver(client, "/anonym", "m1")
    await deliver(client, "Hvordan søker jeg om støtte til fritidsaktiviteter?", "m2")
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Vi ringer deg.")
    store = offline_app.store
    real = store.pending_pushes
    failures = [1, 1]

    def flaky(channel_name: str) -> list[tuple[str, str | None]]:
        if failures:
            failures.pop()
            raise OSError("disk I/O error")
        return real(channel_name)

    monkeypatch.setattr(store, "pending_pushes", flaky)
    loop = _push_sms(channel, interval_s=0.01)
    try:
        await eventually(lambda: "Vi ringer deg." in fake.texts(), timeout=5)
        assert loop.alive and loop.health()["ok"] is True
    finally:
        await loop.stop()
    assert fake.texts().count("Vi ringer deg.") == 1


async def test_after_a_delivery_cut_short_the_choices_keep_the_numbers_the_router_recorded(
    gateway: Gateway, offline_app: App, clock: FakeClock
) -> None:
    """A danger offer ("1. Noen er i fare nå") and an answer ("2. Snakk med en person") answer
    one message; the gateway takes the first and fails the second. Sent again later, the
    second still says "2.": a bare "1" must not mean something else than what was shown."""
    from bot.store.repo import StoredReply
    from flows.types import Button

    fake, client, channel = gateway
    await deliver(client, "hei", "m1")  # the number is known (kept encrypted) to push to
    sent_before = len(fake.sent)
    store = offline_app.store
    address = offline_app.router.address("sms", NUMBER)
    recorded = store.record_inbound("sms", address, "hva nå?", "m2", "nb")
    pending = store.next_unhandled(recorded.conversation_id)
    assert pending is not None
    offer = StoredReply("bot", "Er noen i fare nå?", "nb", (Button("Noen er i fare nå", "danger"),))
    answer = StoredReply("bot", "Helsestasjonen.", "nb", (Button("Snakk med en person", "person"),))
    store.give_up(pending, "test", [offer, answer], to_outbox=True)
    fake.statuses = [202, 503]  # the offer goes, the answer fails
    await channel.push_pending()
    assert fake.texts()[sent_before:] == ["Er noen i fare nå?\n1. Noen er i fare nå"]
    clock.advance(seconds=30)
    await channel.push_pending()
    assert fake.texts()[-1] == "Helsestasjonen.\n2. Snakk med en person"
    assert waiting(offline_app) == []
