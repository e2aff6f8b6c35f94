"""SMS, the "one number": a configurable HTTP gateway (see SmsSettings for the shape).

Inbound webhooks must be signed and fresh; a repeated message id is ignored. Replies are
plain text with buttons as numbered choices, split into numbered SMS-sized parts. Phone
numbers are never stored: the conversation is keyed by a keyed hash of the number, and the
number to push a los reply to is kept in memory only (after a restart the reply waits until
the citizen writes again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.render import plain_texts
from bot.router import Router
from bot.settings import SmsSettings
from flows.types import Inbound, Outbound

CHANNEL = "sms"
GSM_PART, UNICODE_PART = 153, 67
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_WORD_BREAK = re.compile(r"(?<!\d) | (?!\d)")
"""A space to break a long line at: any but one inside a number ("116 111", "55 10 20 99")."""
log = logging.getLogger(__name__)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature the gateway sends: hex HMAC-SHA256 over "<timestamp>.<body>"."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _pack(pieces: list[str], budget: int, joiner: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if len(candidate) <= budget:
            current = candidate
            continue
        if current:
            parts.append(current)
        if len(piece) <= budget:
            current = piece
            continue
        words = (
            _pack(_WORD_BREAK.split(piece), budget, " ")
            if " " in piece
            else [piece[k : k + budget] for k in range(0, len(piece), budget)]
        )
        parts.extend(words[:-1])
        current = words[-1]
    if current:
        parts.append(current)
    return parts


def sms_parts(text: str, max_parts: int) -> list[str]:
    """Split into numbered parts that each fit one SMS segment ("(1/3) ..."), keeping lines
    (such as numbered choices) whole where they fit."""
    size = GSM_PART if set(text) <= _GSM else UNICODE_PART
    lines = [line for line in text.split("\n") if line.strip()]
    if len(text) <= size:
        return ["\n".join(lines) or text]
    budget = size - 7  # room for "(n/m) "
    parts = _pack(lines, budget, "\n") or [""]
    if len(parts) > max_parts:
        parts = [*parts[: max_parts - 1], parts[max_parts - 1][: budget - 1] + "…"]
    return [f"({n}/{len(parts)}) {part}" for n, part in enumerate(parts, 1)]


@dataclass
class SmsChannel:
    """Receives signed gateway webhooks and sends replies with httpx."""

    router: Router
    settings: SmsSettings
    shared_secret: str
    api_token: str | None
    transport: httpx.AsyncBaseTransport | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._numbers: dict[str, str] = {}
        self._client = httpx.AsyncClient(transport=self.transport, timeout=10.0)

    def _authentic(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get(self.settings.timestamp_header, "")
        signature = request.headers.get(self.settings.signature_header, "")
        if not timestamp.isdigit() or not signature:
            return False
        if abs(self.clock() - int(timestamp)) > self.settings.max_age_s:
            return False
        expected = sign(self.shared_secret, timestamp, body)
        return hmac.compare_digest(expected, signature)

    async def webhook(self, request: Request) -> Response:
        """The inbound endpoint: 401 unless signed and fresh; a replay is acknowledged, unused."""
        body = await request.body()
        if len(body) > 64_000:
            return JSONResponse({"error": "too_large"}, status_code=413)
        if not self._authentic(request, body):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        fields = self.settings.fields
        try:
            if request.headers.get("content-type", "").startswith("application/json"):
                data = json.loads(body)
            else:
                data = dict(await request.form())
            number, text = str(data[fields["from"]]), str(data.get(fields["text"], ""))
            message_id = str(data.get(fields["id"], "")) or None
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        address = self.router.address(CHANNEL, number)
        self._numbers[address] = number
        pending = self.router.take_pending(CHANNEL, number)
        handled = await self.router.handle(Inbound(CHANNEL, number, text), external_id=message_id)
        if handled.duplicate:
            return JSONResponse({"status": "duplicate"})
        await self.send(number, [*pending, *handled.replies])
        return JSONResponse({"status": "ok"})

    async def send(self, number: str, messages: Sequence[Outbound]) -> int:
        """POST every part to the gateway; returns the number of parts accepted."""
        headers = {"Authorization": f"Bearer {self.api_token}"} if self.api_token else {}
        sent = 0
        for message, plain in zip(messages, plain_texts(messages), strict=True):
            text = message.short if message.short is not None else plain
            for part in sms_parts(text, self.settings.max_parts):
                payload = {
                    self.settings.to_field: number,
                    self.settings.text_field: part,
                    self.settings.from_field: self.settings.sender,
                }
                try:
                    response = await self._client.post(
                        self.settings.outbound_url, json=payload, headers=headers
                    )
                    response.raise_for_status()
                    sent += 1
                except httpx.HTTPError:
                    log.warning("sms gateway refused or failed a part")
        return sent

    async def push_pending(self) -> int:
        """Deliver waiting los replies to numbers seen since start."""
        sent = 0
        for address in self.router.store.pending_addresses(CHANNEL):
            number = self._numbers.get(address)
            if number is not None:
                sent += await self.send(
                    number, self.router.take_pending_by_address(CHANNEL, address)
                )
        return sent

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
