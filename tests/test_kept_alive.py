"""The lean HTTP/1.1 transport the Rasa client uses (nlu/kept_alive.py): answers come whole,
connections are kept and reused, a connection the server closed while idle costs nothing, and
every failure is an httpx error that leaves the pool usable."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from nlu.kept_alive import KeptAliveTransport
from nlu.rasa_client import NluUnavailable, RasaClient
from tests.fakes.serving import free_port, serving

Respond = Callable[[bytes, int, asyncio.StreamWriter], Awaitable[bool | None]]
"""What a raw server does with a request: (its body, its number on this connection, the
connection) → whether to read the next request on this connection (None: answer nothing, wait
for the client to hang up)."""


def answer(body: bytes, *headers: bytes) -> bytes:
    """A complete HTTP/1.1 200 answer with a Content-Length."""
    lines = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", *headers]
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class RawServer:
    """An HTTP/1.1 server written by hand on 127.0.0.1, for what a framework would not do:
    it counts connections and lets ``respond`` write anything, or nothing."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.connections = 0
        self.open = 0
        self.peak = 0
        self.ended_by_client = 0
        self.received = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            number = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    self.ended_by_client += 1
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                number += 1
                self.received.set()
                then = await self.respond(body, number, writer)
                if then is None:
                    await reader.read()
                    self.ended_by_client += 1
                    return
                if not then:
                    return
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return  # a cancelled handler that ends quietly: asyncio logs no "error"
        finally:
            self.open -= 1
            writer.close()
            self._tasks.discard(task)


async def ended(server: RawServer, count: int) -> None:
    """Wait (up to a second) until the client has closed ``count`` connections."""
    for _ in range(100):
        if server.ended_by_client >= count:
            break
        await asyncio.sleep(0.01)
    assert server.ended_by_client == count


async def echo(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
    writer.write(answer(body))
    return True


def client(url: str, timeout: float = 1.0, **limits: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=timeout, transport=KeptAliveTransport(**limits))


async def where_from(request: Request) -> Response:
    """The JSON body as it came, and the client's port (one port: one connection)."""
    assert request.client is not None
    return JSONResponse({"got": await request.json(), "port": request.client.port})


async def echo_bytes(request: Request) -> Response:
    return Response(await request.body())


async def streamed(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"first ", b"second ", b"third"):
            yield part

    return StreamingResponse(parts())


async def parse(request: Request) -> Response:
    text = (await request.json())["text"]
    return JSONResponse(
        {"text": text, "intent": {"name": "greet", "confidence": 0.9}, "intent_ranking": []}
    )


APP = Starlette(
    routes=[
        Route("/json", where_from, methods=["POST"]),
        Route("/echo", echo_bytes, methods=["POST"]),
        Route("/streamed", streamed),
        Route("/model/parse", parse, methods=["POST"]),
    ]
)


async def test_a_json_post_gets_its_answer_and_the_next_requests_reuse_the_connection() -> None:
    async with serving(APP) as url, client(url) as http:
        answers = [(await http.post("/json", json={"n": n})).json() for n in range(3)]
    assert [a["got"] for a in answers] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert len({a["port"] for a in answers}) == 1


async def test_consecutive_requests_use_one_connection() -> None:
    server = RawServer(echo)
    async with server as url, client(url) as http:
        for n in range(5):
            assert (await http.post("/", content=b"%d" % n)).content == b"%d" % n
    assert server.connections == 1


async def test_a_connection_the_server_closed_after_answering_is_not_reused() -> None:
    async def answer_and_close(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(body))
        await writer.drain()
        return False

    server = RawServer(answer_and_close)
    async with server as url, client(url) as http:
        for n in range(3):
            assert (await http.post("/", content=b"%d" % n)).content == b"%d" % n
    assert server.connections == 3


async def test_the_server_closed_the_idle_connection_the_next_request_still_gets_its_answer() -> (
    None
):
    """The race a keep-alive timeout makes: the request goes out on a connection the server
    is closing; it is sent again on a new one, once."""

    async def closing_kept_alive(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        if number > 1:
            return False  # closes without an answer, as on its keep-alive timeout
        writer.write(answer(body))
        return True

    server = RawServer(closing_kept_alive)
    async with server as url, client(url) as http:
        for n in range(3):
            assert (await http.post("/", content=b"body %d" % n)).content == b"body %d" % n
    assert server.connections == 3  # each second request on a connection was sent again


async def test_a_retried_message_is_not_a_failure_of_the_nlu_server() -> None:
    """Through the Rasa client (its body is streamed and says when it was sent): the
    server that closed its kept-alive connection stays in the pool."""

    async def closing_kept_alive(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        if number > 1:
            return False
        text = json.loads(body)["text"]
        writer.write(answer(json.dumps({"text": text, "intent": {"name": text}}).encode()))
        return True

    first, second = RawServer(closing_kept_alive), RawServer(closing_kept_alive)
    async with first as a, second as b:
        rasa = RasaClient([a, b], 1.0)
        try:
            for n in range(6):
                sent = asyncio.Event()
                assert (await rasa.read(f"tekst {n}", sent)).intent.name == f"tekst {n}"
                assert sent.is_set()
            assert rasa.live() == (a, b)
        finally:
            await rasa.aclose()
    assert first.connections == second.connections == 3


async def test_a_request_on_a_new_connection_is_not_sent_again() -> None:
    async def hang_up(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        return False

    server = RawServer(hang_up)
    async with server as url, client(url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/", content=b"x")
    assert server.connections == 1


async def test_a_chunked_answer_is_decoded() -> None:
    async with serving(APP) as url, client(url) as http:
        assert (await http.get("/streamed")).content == b"first second third"
        assert (await http.get("/streamed")).text == "first second third"


async def test_chunk_extensions_and_trailers_are_read_past_and_the_connection_is_reused() -> None:
    async def chunked(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: yes\r\n\r\n"
        )
        return True

    server = RawServer(chunked)
    async with server as url, client(url) as http:
        for _ in range(2):
            assert (await http.post("/", content=b"x")).content == b"hello world"
    assert server.connections == 1


async def test_a_body_of_unknown_length_arrives_whole() -> None:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"", b"two ", b"three"):
            yield part

    async with serving(APP) as url, client(url) as http:
        assert (await http.post("/echo", content=parts())).content == b"one two three"


async def test_no_server_on_the_port_is_a_connect_error_at_once() -> None:
    start = time.monotonic()
    async with client(f"http://127.0.0.1:{free_port()}", timeout=5.0) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/")
    assert time.monotonic() - start < 2.0  # refused at once, not after the 5 s timeout


async def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    async def never(body: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        return None

    server = RawServer(never)
    async with server as url, client(url, timeout=0.2) as http:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/", content=b"x")
        assert 0.2 <= time.monotonic() - start < 2.0  # the read timeout, with room for a busy CI
        await ended(server, 1)  # the timed-out connection was closed, not kept


@pytest.mark.parametrize(
    ("garbage", "then_closed"),
    [
        (b"HTTP/1.1 OK\r\n\r\n", False),
        (b"SPDY/3 200 OK\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", False),
        (answer(b"0123456789" * 10)[:-50], True),  # cut off midway, the socket closed
    ],
    ids=["no code", "not http", "no colon", "bad length", "bad chunk", "cut off"],
)
async def test_a_malformed_or_cut_off_answer_is_a_protocol_error_and_the_next_works(
    garbage: bytes, then_closed: bool
) -> None:
    async def malformed(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        if server.connections == 1:
            writer.write(garbage)
            return not then_closed
        writer.write(answer(body))
        return True

    server = RawServer(malformed)
    async with server as url, client(url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/", content=b"x")
        assert (await http.post("/", content=b"fine")).content == b"fine"
    assert server.connections == 2  # the broken connection was not kept


async def test_an_endless_head_is_a_protocol_error() -> None:
    async def endless(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n")
        return True

    async with RawServer(endless) as url, client(url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/", content=b"x")


async def test_concurrent_requests_each_get_their_own_answer_on_a_bounded_pool() -> None:
    async def slow_echo(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.01)
        writer.write(answer(body))
        return True

    server = RawServer(slow_echo)
    async with server as url, client(url, max_connections=4, max_idle=4) as http:
        bodies = [b"request %d" % n for n in range(8)]
        answers = await asyncio.gather(*(http.post("/", content=body) for body in bodies))
        assert [a.content for a in answers] == bodies
    assert server.peak <= 4 and server.connections <= 4


async def test_no_free_slot_in_time_is_a_pool_timeout() -> None:
    async def never(body: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        return None

    server = RawServer(never)
    async with server as url, client(url, max_connections=1) as http:
        stuck = asyncio.create_task(http.post("/", content=b"x", timeout=5.0))
        await server.received.wait()
        with pytest.raises(httpx.PoolTimeout):
            await http.post("/", content=b"y", timeout=httpx.Timeout(5.0, pool=0.05))
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck


async def test_a_cancelled_request_closes_its_connection_and_frees_its_slot() -> None:
    async def stall_first(body: bytes, number: int, writer: asyncio.StreamWriter) -> bool | None:
        if body == b"stall":
            return None
        writer.write(answer(body))
        return True

    server = RawServer(stall_first)
    async with server as url, client(url, max_connections=1) as http:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            stuck = asyncio.create_task(http.post("/", content=b"stall"))
            await server.received.wait()
            stuck.cancel()
            with pytest.raises(asyncio.CancelledError):
                await stuck
            del stuck
            gc.collect()
            await ended(server, 1)
        # its connection was closed, not left to the garbage collector ("unclosed" warnings)
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
        answered = await http.post("/", content=b"next", timeout=httpx.Timeout(1.0, pool=0.2))
        assert answered.content == b"next"
        assert server.connections == 2


async def test_closing_the_transport_closes_the_idle_connections_and_it_still_works() -> None:
    server = RawServer(echo)
    transport = KeptAliveTransport()
    async with server as url:
        http = httpx.AsyncClient(base_url=url, transport=transport)
        assert (await http.post("/", content=b"a")).content == b"a"
        await transport.aclose()
        assert (await http.post("/", content=b"b")).content == b"b"
        await http.aclose()  # closes the transport: the server sees both connections end
        await ended(server, 2)
        assert server.connections == 2


async def test_only_plain_http_is_spoken() -> None:
    async with client("https://127.0.0.1:1") as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("/")


async def test_the_rasa_client_reads_the_intent_and_says_when_the_message_was_sent() -> None:
    async with serving(APP) as url:
        rasa = RasaClient(url, 1.0)
        try:
            sent = asyncio.Event()
            reading = await rasa.read("hei", sent)
            assert (reading.intent.name, reading.intent.confidence) == ("greet", 0.9)
            assert sent.is_set()
            assert (await rasa.parse("hei igjen")).name == "greet"
        finally:
            await rasa.aclose()


async def test_the_rasa_client_against_a_dead_port_is_nlu_unavailable() -> None:
    rasa = RasaClient(f"http://127.0.0.1:{free_port()}", 1.0)
    try:
        with pytest.raises(NluUnavailable):
            await rasa.read("hei")
    finally:
        await rasa.aclose()


async def test_the_rasa_client_closes_its_connections() -> None:
    server = RawServer(echo)
    async with server as url:
        rasa = RasaClient(url, 1.0)
        with pytest.raises(NluUnavailable):  # the echo is no parse result
            await rasa.read("hei")
        await rasa.aclose()
        await ended(server, 1)
    assert server.connections == 1


async def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    server = RawServer(echo)
    async with server as url, client(url) as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.post("/", content=b"x", headers={"X-Note": "a\r\nX-Injected: 1"})
    assert server.connections == 0
