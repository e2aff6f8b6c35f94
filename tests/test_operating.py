"""Operating the service: /healthz (alive), /readyz (ready: database, loops; the NLU state in
the body) and /metrics (Prometheus, off unless enabled, behind a bearer token, never any
text or identity)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from bot.app import App, build_app
from bot.channels.delivery import Deliverer, SupervisedLoop, Undelivered
from bot.metrics import Metrics
from bot.readiness import ReadinessCheck
from bot.settings import PROJECT_ROOT, ConfigError, Settings, load_settings
from bot.store.db import make_sessionmaker
from bot.web import create_web_app
from flows.types import Outbound
from nlu.rasa_client import RasaClient
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.test_console import asks_anonymously

TOKEN = "metrics-token-for-tests"
QUESTION = "Jeg er redd for at pappa drikker for mye, hva kan jeg gjøre?"


def client_of(app: App) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_web_app(app)), base_url="http://inngang"
    )


def with_metrics(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"web": settings.web.model_copy(update={"metrics": True}), "metrics_token": TOKEN}
    )


@pytest.fixture
def metered_app(tmp_path: Path, clock: FakeClock) -> App:
    settings = with_metrics(app_settings(tmp_path))
    return build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")


@pytest.fixture
async def api(metered_app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(metered_app) as client:
        yield client


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(rf"^{pattern}$", exposition, re.MULTILINE)
    assert found is not None, f"{name} {labels} not in the metrics"
    return float(found.group(1))


def fake_rasa() -> RasaClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        return httpx.Response(200, json={"intent": {"name": "ask_bup", "confidence": 0.99}})

    return RasaClient("http://rasa", 1.0, transport=httpx.MockTransport(answer))


# --- alive and ready ---------------------------------------------------------------------------


async def test_without_rasa_the_replica_is_ready_but_degraded(offline_app: App) -> None:
    async with client_of(offline_app) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "degraded": True,
        "database": True,
        "nlu": False,
        "loops": {},
    }
    assert ready.headers["cache-control"] == "no-store"
    assert alive.status_code == 200 and alive.json() == {"alive": True}


async def test_with_rasa_answering_the_replica_is_ready_and_not_degraded(
    offline_app: App,
) -> None:
    rasa = fake_rasa()
    offline_app.rasa = offline_app.understander.rasa = rasa
    async with client_of(offline_app) as client:
        body = (await client.get("/readyz")).json()
    assert body["ready"] is True and body["nlu"] is True and body["degraded"] is False
    await rasa.aclose()


async def test_a_database_that_does_not_answer_makes_it_unready_but_still_alive(
    offline_app: App,
) -> None:
    async with client_of(offline_app) as client:
        nowhere = create_engine("postgresql+psycopg://inngang:x@127.0.0.1:9/inngang_test")
        offline_app.store.sessions = make_sessionmaker(nowhere)  # the discard port: refused
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["database"] is False and ready.json()["ready"] is False
    assert alive.status_code == 200


async def test_a_hung_database_answers_not_ready_in_time_and_is_not_pinged_twice() -> None:
    release = threading.Event()
    pings: list[int] = []

    def hangs() -> None:
        pings.append(1)
        release.wait(10)

    async def nlu_up() -> bool:
        return True

    check = ReadinessCheck(hangs, nlu_up, timeout_s=0.1)
    first = await check.check({})
    second = await check.check({})
    assert (first.ready, second.ready) == (False, False)
    assert len(pings) == 1  # the second check waited on the ping still running
    release.set()
    await asyncio.sleep(0.05)
    assert (await check.check({})).ready is True
    assert len(pings) == 2


async def test_a_dead_push_loop_makes_it_unready(offline_app: App) -> None:
    async def fine() -> None:
        return None

    web = create_web_app(offline_app)
    sms = SupervisedLoop("sms", fine, 0.01).start()
    web.state.loops = {"sms": sms}
    await sms.stop()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang"
    ) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["loops"]["sms"]["alive"] is False


# --- metrics -------------------------------------------------------------------------------------


async def test_metrics_are_off_unless_enabled(offline_app: App) -> None:
    async with client_of(offline_app) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


def test_metrics_cannot_be_enabled_without_a_token(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    text = (PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")
    assert text.count("  metrics: false\n") == 1
    config.write_text(text.replace("  metrics: false\n", "  metrics: true\n"), "utf-8")
    with pytest.raises(ConfigError, match="INNGANG_METRICS_TOKEN"):
        load_settings(config, env={})
    settings = load_settings(config, env={"INNGANG_METRICS_TOKEN": TOKEN})
    assert settings.web.metrics and settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)


async def test_metrics_ask_for_the_bearer_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/metrics")).status_code == 401
    wrong = await api.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    right = await api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain; version=0.0.4")


async def test_metrics_count_messages_time_understanding_and_show_the_queue(
    metered_app: App, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    youth = await asks_anonymously(metered_app, "browser-5e1f", QUESTION)
    await youth.says("takk")
    clock.advance(minutes=45)  # over the 30-minute target
    response = await api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    metrics = response.text
    assert sample(metrics, "inngang_inbound_messages_total", channel="web") == 3
    assert sample(metrics, "inngang_understanding_seconds_count", source="fallback") >= 2
    assert sample(metrics, "inngang_queue_unclaimed_cases", urgent="false") == 1
    assert sample(metrics, "inngang_queue_unclaimed_cases", urgent="true") == 0
    waited = sample(metrics, "inngang_queue_oldest_waiting_seconds", urgent="false")
    assert 45 * 60 <= waited < 46 * 60
    assert sample(metrics, "inngang_queue_over_target_cases", urgent="false") == 1
    assert sample(metrics, "inngang_notifications_undelivered") >= 0
    assert sample(metrics, "inngang_nlu_available") == 0
    assert "process_resident_memory_bytes" in metrics
    [item] = metered_app.queue.open_cases("kari")
    metered_app.queue.claim(item.reference, "kari")
    metrics = (await api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert sample(metrics, "inngang_queue_unclaimed_cases", urgent="false") == 0
    assert sample(metrics, "inngang_queue_oldest_waiting_seconds", urgent="false") == 0
    for secret in (QUESTION, "pappa", youth.user, item.reference, "kari", "takk"):
        assert secret not in metrics


async def test_push_deliveries_and_failures_are_counted_by_channel(offline_app: App) -> None:
    channel = "telegram"
    address = offline_app.router.address(channel, "42")
    offline_app.store.record_inbound(channel, address, "hei", None, "nb")
    refusals = ["NetworkError", "Forbidden"]

    async def send(message: Outbound, start: int, key: str | None = None) -> None:
        if refusals:
            kind = refusals.pop(0)
            raise Undelivered(kind, blocked=kind == "Forbidden")

    deliverer = Deliverer(offline_app.store, channel, metrics=offline_app.metrics)
    await deliverer.deliver(address, send, [Outbound("+47 900 00 001 ring meg", "nb")])
    await deliverer.deliver(address, send, [Outbound("to", "nb")])
    await deliverer.deliver(address, send, [Outbound("tre", "nb")])
    metrics = offline_app.metrics.exposition().decode()
    assert sample(metrics, "inngang_push_failures_total", channel=channel, reason="retry") == 1
    assert sample(metrics, "inngang_push_failures_total", channel=channel, reason="blocked") == 1
    assert sample(metrics, "inngang_push_sent_messages_total", channel=channel) == 3
    assert "900 00 001" not in metrics and address not in metrics


def test_every_app_has_its_own_registry() -> None:
    one, other = Metrics(), Metrics()
    one.inbound("sms")
    one.inbound("a-channel-nobody-knows")
    first, second = one.exposition().decode(), other.exposition().decode()
    assert sample(first, "inngang_inbound_messages_total", channel="sms") == 1
    assert sample(first, "inngang_inbound_messages_total", channel="other") == 1
    assert "a-channel-nobody-knows" not in first
    assert 'inngang_inbound_messages_total{channel="sms"}' not in second
