"""Several Rasa servers behind one client (`nlu.urls`): messages go to them in turn, a server
that fails is taken out for a while and the message is asked of the next one, the health check
takes dead ones out and puts recovered ones back."""

from __future__ import annotations

import httpx
import pytest

from bot.settings import load_settings
from nlu.rasa_client import NluUnavailable, RasaClient
from tests.ticks import Ticks


class Servers:
    """Fake Rasa servers by host name; each answers with its own name as the intent."""

    def __init__(self, *names: str) -> None:
        self.up = set(names)
        self.asked: list[str] = []

    def transport(self) -> httpx.MockTransport:
        def respond(request: httpx.Request) -> httpx.Response:
            host = request.url.host
            if host not in self.up:
                raise httpx.ConnectError("refused", request=request)
            if request.url.path == "/status":
                return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
            self.asked.append(host)
            return httpx.Response(200, json={"intent": {"name": host, "confidence": 0.9}})

        return httpx.MockTransport(respond)




def pool(servers: Servers, clock: Ticks, *names: str) -> RasaClient:
    urls = [f"http://{name}:5005" for name in names]
    return RasaClient(urls, 1.0, transport=servers.transport(), retry_after_s=10, clock=clock)


async def test_messages_go_to_the_servers_in_turn() -> None:
    servers, clock = Servers("a", "b"), Ticks(100.0)
    client = pool(servers, clock, "a", "b")
    for _ in range(4):
        await client.parse("hei")
    assert servers.asked == ["a", "b", "a", "b"]


async def test_a_dead_server_costs_one_message_a_retry_then_is_left_alone() -> None:
    servers, clock = Servers("b"), Ticks(100.0)
    client = pool(servers, clock, "a", "b")
    assert (await client.parse("hei")).name == "b"  # a refused: asked of b at once
    assert client.live() == ("http://b:5005",)
    for _ in range(3):
        assert (await client.parse("hei")).name == "b"
    servers.up.add("a")
    clock.now += 11  # after the pause it is asked again
    answered = {(await client.parse("hei")).name for _ in range(2)}
    assert answered == {"a", "b"}


async def test_the_health_check_takes_dead_ones_out_and_puts_recovered_ones_back() -> None:
    servers, clock = Servers("b"), Ticks(100.0)
    client = pool(servers, clock, "a", "b")
    assert await client.healthy()  # b can answer
    assert client.live() == ("http://b:5005",)
    servers.up.add("a")
    assert await client.healthy()
    assert client.live() == ("http://a:5005", "http://b:5005")


async def test_with_every_server_down_the_message_fails_and_the_pool_is_unhealthy() -> None:
    servers, clock = Servers(), Ticks(100.0)
    client = pool(servers, clock, "a", "b")
    with pytest.raises(NluUnavailable):
        await client.parse("hei")
    assert not await client.healthy()
    with pytest.raises(NluUnavailable):  # both out: no waiting on either
        await client.parse("hei")


async def test_one_server_alone_is_always_asked() -> None:
    servers, clock = Servers(), Ticks(100.0)
    client = pool(servers, clock, "a")
    with pytest.raises(NluUnavailable):
        await client.parse("hei")
    servers.up.add("a")
    assert (await client.parse("hei")).name == "a"  # no pause of its own


def test_several_servers_come_from_the_environment_separated_by_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGANG_NLU_URL", "http://rasa-1:5005, http://rasa-2:5005")
    monkeypatch.setenv("INNGANG_NLU_MANAGE_SERVER", "false")
    settings = load_settings()
    assert settings.nlu.servers() == ["http://rasa-1:5005", "http://rasa-2:5005"]


def test_a_pool_with_a_managed_server_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INNGANG_NLU_URL", "http://rasa-1:5005,http://rasa-2:5005")
    monkeypatch.setenv("INNGANG_NLU_MANAGE_SERVER", "true")
    with pytest.raises(Exception, match="manage_server"):
        load_settings()


async def test_a_server_behind_a_path_is_asked_there_and_an_error_status_fails() -> None:
    """A Rasa server behind a proxy at http://proxy/nlu/ is asked at /nlu/model/parse, as
    httpx joins a base URL; an answer that is not 200 is a failed server, not a reading."""
    asked: list[tuple[str, str, str]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        asked.append((request.url.path, request.headers["content-type"], request.read().decode()))
        if "broken" in request.url.path:
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, json={"intent": {"name": "ppt", "confidence": 0.8}})

    fine = RasaClient("http://proxy/nlu/", 1.0, transport=httpx.MockTransport(respond))
    reading = await fine.read("hvor er PPT?")
    assert (reading.intent.name, reading.intent.confidence) == ("ppt", 0.8)
    assert asked == [("/nlu/model/parse", "application/json", '{"text": "hvor er PPT?"}')]
    broken = RasaClient("http://proxy/broken", 1.0, transport=httpx.MockTransport(respond))
    with pytest.raises(NluUnavailable, match="502"):
        await broken.read("hei")
