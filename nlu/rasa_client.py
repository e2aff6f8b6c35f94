"""HTTP client for a Rasa NLU server's POST /model/parse."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import httpx

RANKED = 6
"""How many intents of Rasa's ranking are kept (the first and the runners-up)."""
VECTOR_KEY = "inngang_sentence_vector"
"""Where our pipeline's e5 featurizer puts the message's sentence vector in the parse result
(nlu/rasa_components/e5_featurizer.py: ``OUTPUT_KEY``)."""


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


class RasaClient:
    """Calls a Rasa server over HTTP; the transport is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 0.5)),
            transport=transport,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )

    async def parse(self, text: str) -> ParsedIntent:
        """Ask Rasa for the intent of ``text``; raise NluUnavailable on any failure."""
        return (await self.read(text)).intent

    async def read(self, text: str) -> RasaReading:
        """Ask Rasa for the intent of ``text``, and take the sentence vector it sends along;
        raise NluUnavailable on any failure."""
        try:
            response = await self._client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            body = response.json()
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
        """Whether the server answers its status endpoint with a loaded model."""
        try:
            response = await self._client.get("/status")
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
