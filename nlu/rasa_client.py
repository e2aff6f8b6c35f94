"""HTTP client for a Rasa NLU server's POST /model/parse."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

RANKED = 6
"""How many intents of Rasa's ranking are kept (the first and the runners-up)."""


class NluUnavailable(Exception):
    """The Rasa server could not answer in time (down, slow, or gave a bad answer)."""


@dataclass(frozen=True)
class ParsedIntent:
    """The intent ranked first, with its confidence, and the runners-up."""

    name: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    """(intent, confidence) of the next best intents, best first (Rasa's intent_ranking)."""


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
        try:
            response = await self._client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            body = response.json()
            intent = body.get("intent") or {}
            ranking = tuple(
                (str(entry["name"]), float(entry.get("confidence", 0.0)))
                for entry in (body.get("intent_ranking") or [])[1:RANKED]
            )
            return ParsedIntent(
                str(intent["name"]), float(intent.get("confidence", 0.0)), ranking
            )
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
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
