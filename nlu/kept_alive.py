"""A small httpx transport: HTTP/1.1 over kept-alive asyncio streams, for the Rasa server.

httpx's default transport (httpcore, h11, anyio) costs about half a millisecond per request
against a local server; the Rasa server is asked for every citizen message, over plain
``http://`` on the loopback or a LAN. This transport speaks just enough HTTP/1.1 for that:
a request with its headers as httpx made them, an answer framed by Content-Length, chunked
transfer coding or the end of the connection, and idle connections kept for the next request.
httpx's Request and Response stay the API (timeouts as the request's extension,
Content-Encoding decoding, httpx's errors); ``nlu.rasa_client`` hands requests to it directly."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable

import httpx

_HEAD_LIMIT = 64 * 1024
"""The most a response's status line and headers (and a chunk-size line) may take."""
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""A method or header name (RFC 9110 token)."""
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
"""What must never be in a header value (it would end the line: header injection)."""
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _Stale(Exception):
    """A reused connection failed before any byte of the answer came: the server had
    closed it while it was idle."""


class _Malformed(Exception):
    """The server's answer is not HTTP/1.1 as this transport reads it."""


class _Pool:
    """The connections to one (host, port) within one event loop."""

    __slots__ = ("idle", "loop", "slots")

    def __init__(self, loop: asyncio.AbstractEventLoop, max_connections: int) -> None:
        self.loop = loop
        self.idle: list[_Connection] = []
        """Idle connections, the most recently used last (taken first)."""
        self.slots = asyncio.Semaphore(max_connections)
        """One per request in flight; as a request takes an idle connection before it opens
        one, this also bounds the connections open (in use and idle)."""

    def take_idle(self) -> _Connection | None:
        """The most recently used idle connection that still looks open, if any."""
        while self.idle:
            reader, writer = self.idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return reader, writer
            writer.close()
        return None


class _Outgoing:
    """A request as it goes out: its head, its body and how the body is framed."""

    __slots__ = ("body", "chunked", "close_asked", "head", "is_head", "request", "sent", "timeouts")

    def __init__(
        self,
        request: httpx.Request,
        head: bytes,
        body: bytes | AsyncIterable[bytes],
        chunked: bool,
        close_asked: bool,
    ) -> None:
        self.request = request
        self.timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        self.head = head
        self.body = body
        self.chunked = chunked
        self.close_asked = close_asked
        self.is_head = request.method == "HEAD"
        self.sent: list[bytes] = []
        """The streamed body's chunks as they were written, to send them again."""

    @classmethod
    async def of(cls, request: httpx.Request) -> _Outgoing:
        """The request's head and body; a body whose length the headers do not give is read
        first, to give it."""
        stream = request.stream
        if not isinstance(stream, httpx.AsyncByteStream):
            raise TypeError("an async transport needs an async request body")
        lines, framing, close_asked = _head_lines(request)
        body: bytes | AsyncIterable[bytes] = stream
        if framing is None:
            body = b"".join([chunk async for chunk in stream])
            if body:
                lines.append(b"Content-Length: %d\r\n" % len(body))
        lines.append(b"\r\n")
        return cls(request, b"".join(lines), body, framing == b"chunked", close_asked)

    def rewind(self) -> None:
        """Send the body as it was written the first time (the stream is used up)."""
        if not isinstance(self.body, bytes):
            self.body = b"".join(self.sent)

    async def write(self, writer: asyncio.StreamWriter) -> None:
        """Hand the request to the socket: each chunk of the body as it comes (the head with
        the first one, in one send). The caller waits for the socket to take it all."""
        body, chunked = self.body, self.chunked
        if isinstance(body, bytes):
            if chunked:
                body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
            writer.write(self.head + body)
            return
        pending = self.head
        async for chunk in body:
            self.sent.append(chunk)
            if not chunk:
                continue
            if chunked:
                chunk = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            if pending:
                writer.write(pending + chunk)
                pending = b""
            else:
                writer.write(chunk)
        if chunked:
            pending += b"0\r\n\r\n"
        if pending:
            writer.write(pending)


class KeptAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over plain ``http://`` with kept-alive connections; no TLS, proxies or HTTP/2.

    Per (host, port) at most ``max_connections`` requests are in flight (and as many
    connections open: a request waits for a free slot up to the ``pool`` timeout, then
    ``httpx.PoolTimeout``) and at most ``max_idle`` idle connections are kept. The
    ``connect``, ``write`` and ``read`` timeouts each bound their whole phase (the ``read``
    one the whole answer, not each read). Every failure is an ``httpx`` exception.

    A request on a reused connection that fails before any byte of the answer came (the
    server closed the idle connection, as Rasa's Sanic does after 5 s) is sent again once, on
    a new connection: the request may then reach the server twice, which is only right for
    idempotent requests, as the Rasa client's parse and status requests are. A request on a
    new connection is never sent again.

    One event loop at a time: in another loop it starts afresh (the old loop's connections
    are left to it)."""

    def __init__(self, max_connections: int = 16, max_idle: int = 8) -> None:
        if max_connections < 1 or max_idle < 0:
            raise ValueError("max_connections must be at least 1 and max_idle at least 0")
        self._max_connections = max_connections
        self._max_idle = max_idle
        self._pools: dict[tuple[str, int], _Pool] = {}

    def _pool(self, host: str, port: int) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get((host, port))
        if pool is None or pool.loop is not loop:
            pool = self._pools[host, port] = _Pool(loop, self._max_connections)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the whole answer (the response is returned read)."""
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(
                f"only http:// is supported here, not {url.scheme!r}", request=request
            )
        outgoing = await _Outgoing.of(request)
        host, port = url.host, url.port or 80
        pool = self._pool(host, port)
        await _take_slot(pool.slots, outgoing.timeouts.get("pool"), request)
        try:
            connection = pool.take_idle()
            if connection is not None:
                try:
                    return await self._exchange(pool, connection, outgoing, reused=True)
                except _Stale:
                    outgoing.rewind()
            connection = await _connect(host, port, outgoing.timeouts.get("connect"), request)
            return await self._exchange(pool, connection, outgoing, reused=False)
        finally:
            pool.slots.release()

    async def _exchange(
        self, pool: _Pool, connection: _Connection, outgoing: _Outgoing, reused: bool
    ) -> httpx.Response:
        """One request and its answer on ``connection``, which goes back to the pool after a
        complete answer that allows it and is closed otherwise. On a ``reused`` connection a
        failure before any byte of the answer is ``_Stale`` (the caller sends it again)."""
        reader, writer = connection
        request, timeouts = outgoing.request, outgoing.timeouts
        try:
            try:
                async with asyncio.timeout(timeouts.get("write")):
                    await outgoing.write(writer)
                    try:
                        await writer.drain()
                    except OSError as error:
                        if reused:
                            raise _Stale from error
                        raise
            except TimeoutError as error:
                raise httpx.WriteTimeout(
                    "timed out sending the request", request=request
                ) from error
            except OSError as error:
                raise httpx.WriteError(_why(error), request=request) from error
            try:
                async with asyncio.timeout(timeouts.get("read")):
                    answer = await _read_response(reader, outgoing.is_head, reused)
            except TimeoutError as error:
                raise httpx.ReadTimeout("timed out reading the answer", request=request) from error
            except asyncio.IncompleteReadError as error:
                raise httpx.RemoteProtocolError(
                    "the server closed the connection before the answer was complete",
                    request=request,
                ) from error
            except asyncio.LimitOverrunError as error:
                raise httpx.RemoteProtocolError(
                    "the answer's head or a chunk-size line is too long", request=request
                ) from error
            except _Malformed as error:
                raise httpx.RemoteProtocolError(str(error), request=request) from error
            except OSError as error:
                raise httpx.ReadError(_why(error), request=request) from error
        except BaseException:
            writer.close()
            raise
        status, reason, version, headers, content, keep = answer
        if (
            keep
            and not outgoing.close_asked
            and len(pool.idle) < self._max_idle
            and not writer.is_closing()
            and not reader.at_eof()
        ):
            pool.idle.append(connection)
        else:
            writer.close()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": version, "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        """Close every idle connection; the transport stays usable (later requests open
        new connections)."""
        loop = asyncio.get_running_loop()
        closing: list[asyncio.StreamWriter] = []
        for pool in self._pools.values():
            idle, pool.idle = pool.idle, []
            if pool.loop is loop:
                for _, writer in idle:
                    writer.close()
                    closing.append(writer)
        await asyncio.gather(*(writer.wait_closed() for writer in closing), return_exceptions=True)


def _head_lines(request: httpx.Request) -> tuple[list[bytes], bytes | None, bool]:
    """The request line and header lines; how the body is framed (b"length", b"chunked", or
    None when the headers do not say); whether the request asks to close the connection."""
    method = request.method.encode("ascii")
    raw = request.headers.raw
    if not _TOKEN.fullmatch(method) or _BAD_VALUE.search(b"".join([value for _, value in raw])):
        raise httpx.LocalProtocolError("malformed method or header value", request=request)
    lines = [b"%s %s HTTP/1.1\r\n" % (method, request.url.raw_path)]
    framing: bytes | None = None
    close_asked = False
    for name, value in raw:
        if not _TOKEN.fullmatch(name):
            raise httpx.LocalProtocolError("malformed header name", request=request)
        lines.append(b"%s: %s\r\n" % (name, value))
        lower = name.lower()
        if lower == b"content-length" and framing is None:
            framing = b"length"
        elif lower == b"transfer-encoding":
            if value.rsplit(b",", 1)[-1].strip().lower() != b"chunked":
                raise httpx.LocalProtocolError(
                    "a request's transfer coding must end in chunked", request=request
                )
            framing = b"chunked"
        elif lower == b"connection":
            close_asked = close_asked or b"close" in _tokens(value)
    return lines, framing, close_asked


def _why(error: OSError) -> str:
    """An OS error's description (it names no more than the address)."""
    return str(error) or type(error).__name__


def _tokens(value: bytes) -> list[bytes]:
    """A comma-separated header value's tokens, lower case."""
    return [token.strip().lower() for token in value.split(b",")]


async def _take_slot(
    slots: asyncio.Semaphore, timeout: float | None, request: httpx.Request
) -> None:
    """A free slot for a request; ``httpx.PoolTimeout`` when none frees in time."""
    if not slots.locked():
        await slots.acquire()  # does not wait
        return
    try:
        async with asyncio.timeout(timeout):
            await slots.acquire()
    except TimeoutError as error:
        raise httpx.PoolTimeout("no free connection in time", request=request) from error


async def _connect(
    host: str, port: int, timeout: float | None, request: httpx.Request
) -> _Connection:
    """A new connection; ``httpx.ConnectTimeout`` or ``httpx.ConnectError`` otherwise."""
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.open_connection(host, port, limit=_HEAD_LIMIT)
    except TimeoutError as error:
        raise httpx.ConnectTimeout("timed out connecting", request=request) from error
    except OSError as error:
        raise httpx.ConnectError(_why(error), request=request) from error


async def _read_head(
    reader: asyncio.StreamReader, reused: bool
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    """Status code, reason phrase, HTTP version and headers of the next answer (interim 1xx
    answers skipped); ``_Stale`` on a reused connection that ends before the first byte."""
    first = True
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if first and reused and not error.partial:
                raise _Stale from error
            raise
        except (ConnectionResetError, BrokenPipeError) as error:
            if first and reused:
                raise _Stale from error
            raise
        first = False
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if (
            len(parts) < 2
            or parts[0] not in (b"HTTP/1.1", b"HTTP/1.0")
            or len(parts[1]) != 3
            or not parts[1].isdigit()
        ):
            raise _Malformed("malformed status line")
        status = int(parts[1])
        if status < 100:
            raise _Malformed("malformed status code")
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
                raise _Malformed("malformed header line")
            headers.append((name, value.strip(b" \t")))
        if status == 101:
            raise _Malformed("the server switched protocols, which was not asked")
        if status >= 200:
            return status, parts[2] if len(parts) == 3 else b"", parts[0], headers


async def _read_response(
    reader: asyncio.StreamReader, is_head: bool, reused: bool
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]], bytes, bool]:
    """Status code, reason phrase, HTTP version, headers, body, and whether the connection
    may be used again."""
    status, reason, version, headers = await _read_head(reader, reused)
    length: bytes | None = None
    coding: bytes | None = None
    keep = version == b"HTTP/1.1"
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-length":
            if length is not None and value != length:
                raise _Malformed("conflicting Content-Length headers")
            length = value
        elif lower == b"transfer-encoding":
            coding = value if coding is None else coding + b", " + value
        elif lower == b"connection":
            tokens = _tokens(value)
            if b"close" in tokens:
                keep = False
            elif b"keep-alive" in tokens and version == b"HTTP/1.0":
                keep = True
    if is_head or status in (204, 304) or status < 200:
        return status, reason, version, headers, b"", keep
    if coding is not None:
        if coding.rsplit(b",", 1)[-1].strip().lower() == b"chunked":
            return status, reason, version, headers, await _read_chunked(reader), keep
        return status, reason, version, headers, await reader.read(), False
    if length is not None:
        if not length.isdigit() or len(length) > 18:
            raise _Malformed("malformed Content-Length")
        return status, reason, version, headers, await reader.readexactly(int(length)), keep
    return status, reason, version, headers, await reader.read(), False


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A body in chunked transfer coding; trailers are read and dropped."""
    chunks: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        size = line[:-2].split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size):
            raise _Malformed("malformed chunk size")
        if not (count := int(size, 16)):
            break
        chunks.append(await reader.readexactly(count))
        if await reader.readexactly(2) != b"\r\n":
            raise _Malformed("a chunk does not end where its size says")
    trailer = await reader.readuntil(b"\r\n")
    while trailer != b"\r\n":  # trailers, read and dropped
        trailer = await reader.readuntil(b"\r\n")
    return b"".join(chunks)
