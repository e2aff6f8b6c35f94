"""HTTP client for a Rasa NLU server's POST /model/parse."""

from __future__ import annotations

import asyncio
import base64
import binascii
import importlib.util
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from nlu.kept_alive import KeptAliveTransport

log = logging.getLogger(__name__)

RANKED = 6
"""How many intents of Rasa's ranking are kept (the first and the runners-up)."""
VECTOR_KEY = "inngang_sentence_vector"
"""Where our pipeline's e5 featurizer puts the message's sentence vector in the parse result
(nlu/rasa_components/e5_featurizer.py: ``OUTPUT_KEY``)."""


def remember_missing_sniffio() -> None:
    """httpcore runs ``import sniffio`` several times for every request; where sniffio is not
    installed (it is optional), each of those searches the whole import path, a stat call per
    entry: a fifth of the event loop's CPU in the end-to-end benchmark. Its absence is
    remembered once (``None`` in ``sys.modules``: the import then fails at once, as
    ``ModuleNotFoundError``, as before). Nothing changes where it is installed."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


class _Body(httpx.AsyncByteStream):
    """A request body that says when it has been written: the transport (KeptAliveTransport,
    as httpcore) asks for the next chunk only after handing this one to the socket."""

    def __init__(self, content: bytes, sent: asyncio.Event | None) -> None:
        self._content = content
        self._sent = sent

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._content
        if self._sent is not None:
            self._sent.set()


class NluUnavailable(Exception):
    """The Rasa server could not answer in time (down, slow, or gave a bad answer)."""


@dataclass(frozen=True)
class ParsedIntent:
    """The intent ranked first, with its confidence, and the runners-up."""

    name: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    """(intent, confidence) of the next best intents, best first (Rasa's intent_ranking)."""


@dataclass(frozen=True)
class SentenceVector:
    """The sentence vector the Rasa server computed, as it came: checked by the reader
    (``nlu.embeddings.usable_vector``), never trusted as it is."""

    model: str
    """The model and prefix that made it (an ``Embedder.name``)."""
    text: str
    """The text it is the vector of: the parse result's ``text`` (Rasa strips the text)."""
    float32: bytes
    """The values, float32 little-endian."""


@dataclass(frozen=True)
class RasaReading:
    """The model's answer for a text, with the sentence vector of that text when the server
    sent one."""

    intent: ParsedIntent
    vector: SentenceVector | None = None


def sentence_vector(body: dict[str, Any]) -> SentenceVector | None:
    """The parse result's sentence vector; None when it has none or it is malformed (the
    intent is still good: only the vector is dropped)."""
    found = body.get(VECTOR_KEY)
    text = body.get("text")
    if not isinstance(found, dict) or not isinstance(text, str):
        return None
    model, encoded = found.get("model"), found.get("float32")
    if not isinstance(model, str) or not isinstance(encoded, str):
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return SentenceVector(model, text, data)


@dataclass(frozen=True)
class _Server:
    """One Rasa server, asked straight through its transport with the URLs and timeouts
    prepared once: httpx's client spent 90 µs a request merging the base URL, headers and
    cookies and running its auth, redirect and hook steps, of which 19 µs are left."""

    transport: httpx.AsyncBaseTransport
    parse_url: httpx.URL
    status_url: httpx.URL
    timeouts: dict[str, float | None]

    @classmethod
    def at(
        cls, base: str, transport: httpx.AsyncBaseTransport, timeouts: dict[str, float | None]
    ) -> _Server:
        """The server at ``base`` (its paths joined to it as httpx joins a base URL's)."""
        base = base.rstrip("/")
        return cls(
            transport, httpx.URL(base + "/model/parse"), httpx.URL(base + "/status"), timeouts
        )

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        request.extensions["timeout"] = self.timeouts
        response = await self.transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def read(self, text: str, sent: asyncio.Event | None = None) -> RasaReading:
        """``POST /model/parse``: Rasa's reading of ``text``; NluUnavailable on any failure
        (never an httpx error). ``sent`` as in ``RasaClient.read``."""
        try:
            content = json.dumps({"text": text}).encode()
            response = await self._answer(
                httpx.Request(
                    "POST",
                    self.parse_url,
                    content=_Body(content, sent),
                    headers={
                        "Content-Type": "application/json",
                        "Content-Length": str(len(content)),
                    },
                )
            )
            if response.status_code != 200:
                raise NluUnavailable(f"HTTP {response.status_code}")
            body = json.loads(response.content)
            intent = body.get("intent") or {}
            ranking = tuple(
                (str(entry["name"]), float(entry.get("confidence", 0.0)))
                for entry in (body.get("intent_ranking") or [])[1:RANKED]
            )
            parsed = ParsedIntent(
                str(intent["name"]), float(intent.get("confidence", 0.0)), ranking
            )
            return RasaReading(parsed, sentence_vector(body))
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise NluUnavailable(type(error).__name__) from None

    async def healthy(self) -> bool:
        """``GET /status`` says a model is loaded."""
        try:
            response = await self._answer(httpx.Request("GET", self.status_url))
            return response.status_code == 200 and bool(
                json.loads(response.content).get("model_file")
            )
        except (httpx.HTTPError, ValueError, AttributeError):
            return False


class RasaClient:
    """Calls one Rasa server, or several serving the same model, over HTTP; the transport is
    injectable for tests. By default each server gets its own ``KeptAliveTransport`` (a lean
    HTTP/1.1 transport with kept-alive connections, nlu/kept_alive.py), not httpx's own.

    With several servers each message goes to the next one that is in (round robin). A
    server that fails is taken out for ``retry_after_s`` and the message is asked of the next
    one (once: a second failure is the caller's ``NluUnavailable``); ``healthy()`` asks every
    server's ``/status`` and takes out the dead and puts back the recovered ones, so the
    readiness check is also the pool's health check. Only when every server is out does a
    message fail at once."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_after_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        remember_missing_sniffio()
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("at least one NLU server URL is needed")
        self.urls = tuple(urls)
        timeouts = httpx.Timeout(timeout_s, connect=min(timeout_s, 0.5)).as_dict()
        self._servers = [
            _Server.at(
                url, transport or KeptAliveTransport(max_connections=16, max_idle=8), timeouts
            )
            for url in urls
        ]
        self._out_until = [0.0] * len(urls)
        self._next = 0
        self._retry_after_s = retry_after_s
        self._clock = clock

    def live(self) -> tuple[str, ...]:
        """The servers in the pool now (not taken out after a failure)."""
        now = self._clock()
        return tuple(url for url, out in zip(self.urls, self._out_until, strict=True) if out <= now)

    def _order(self) -> list[int]:
        """The servers to ask, the next live one first, then the other live ones."""
        now = self._clock()
        count = len(self._servers)
        start, self._next = self._next, (self._next + 1) % count
        ranked = [(start + k) % count for k in range(count)]
        return [i for i in ranked if self._out_until[i] <= now]

    async def parse(self, text: str) -> ParsedIntent:
        """Ask Rasa for the intent of ``text``; raise NluUnavailable on any failure."""
        return (await self.read(text)).intent

    async def read(self, text: str, sent: asyncio.Event | None = None) -> RasaReading:
        """Ask Rasa for the intent of ``text``, and take the sentence vector it sends along;
        raise NluUnavailable when no server in the pool could answer (at most two asked).
        ``sent`` is set once the request's last byte has been handed to the socket."""
        failure = "no NLU server in the pool"
        for index in self._order()[:2]:
            try:
                return await self._servers[index].read(text, sent)
            except NluUnavailable as error:
                failure = str(error)
                self._take_out(index, failure)
        raise NluUnavailable(failure)

    def _take_out(self, index: int, why: str) -> None:
        """Out of the pool for a while; a server alone is always asked (the understanding
        step has its own pause after a failure)."""
        if len(self._servers) == 1:
            return
        log.warning(
            "NLU server %s failed (%s): out of the pool for %g s",
            self.urls[index],
            why,
            self._retry_after_s,
        )
        self._out_until[index] = self._clock() + self._retry_after_s

    async def healthy(self) -> bool:
        """Whether any server answers its status endpoint with a loaded model; each that
        does not is taken out of the pool, each that does is put back."""
        answers = [await server.healthy() for server in self._servers]
        for index, fine in enumerate(answers):
            if fine:
                self._out_until[index] = 0.0
            elif self._out_until[index] <= self._clock():
                self._take_out(index, "status")
        return any(answers)

    async def aclose(self) -> None:
        """Close the connection pools (a transport shared by several servers once)."""
        for transport in {id(s.transport): s.transport for s in self._servers}.values():
            await transport.aclose()
