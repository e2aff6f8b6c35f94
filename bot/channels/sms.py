"""SMS, the "one number": a configurable HTTP gateway (see SmsSettings for the shape).

Inbound webhooks must be signed and fresh; a repeated message id (the gateway retrying) is
acknowledged and not answered again. Replies are plain text with buttons as numbered choices
(``Outbound.short`` when a message has one), split into numbered SMS-sized parts. Delivery is
exactly once at the message level (bot/channels/delivery.py): what waits in the outbox goes
first, a message is acknowledged only after the gateway accepted every part, and a failure (a
5xx, a 429, a timeout) puts the rest in the outbox, postponed with back-off, for the push loop.
Phone numbers are never used as keys: the conversation is keyed by a keyed hash of the number;
the number to push to is kept with the conversation (``set_push_address``) so that a los reply
goes out after a restart too.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import httpx
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.delivery import Deliverer, SendOne, Undelivered
from bot.channels.render import as_plain_text, plain_texts
from bot.router import Router
from bot.settings import SmsSettings
from bot.text_input import clean_field, load_json
from flows.types import Inbound, Outbound

CHANNEL = "sms"
GSM_SINGLE, UNICODE_SINGLE = 160, 70
"""What one SMS carries: 160 GSM-7 characters, 70 in UCS-2."""
GSM_PART, UNICODE_PART = 153, 67
"""What each part of a longer text carries (the rest goes to the concatenation header)."""
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM-7 default alphabet (the extension table's {}[]~ cost two and are left out: a text
with them is counted as UCS-2, never longer than it is)."""
LATIN_SCRIPT = frozenset({"nb", "nn", "en", "pl", "so"})
"""Languages whose typography is sent in its GSM-7 equivalents («» and “” as ", – as -, … as
...), so that one quotation mark does not make every part 67 characters. Letters are never
changed: Polish keeps ą ę ł ś ż (and goes as UCS-2) rather than be transliterated, since
"zona" is not "żona"; Ukrainian and Arabic are never transliterated."""
_TYPOGRAPHY = str.maketrans(
    {
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "ʼ": "'",
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "…": "...",
        "•": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_WORD_BREAK = re.compile(r"(?<!\d) | (?!\d)")
"""A space to break a long line at: any but one inside a number ("116 111", "55 10 20 99")."""
_CHOICE = re.compile(r"^\d{1,2}\. ")
log = logging.getLogger(__name__)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature the gateway sends: hex HMAC-SHA256 over "<timestamp>.<body>"."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def is_gsm(text: str) -> bool:
    """Whether the text goes as GSM-7 (else as UCS-2, with far fewer characters a part)."""
    return set(text) <= _GSM


def gsm_typography(text: str, language: str) -> str:
    """Quotation marks, dashes, ellipses and special spaces as their GSM-7 equivalents, in a
    language written in the Latin script; other texts as they are."""
    return text.translate(_TYPOGRAPHY) if language in LATIN_SCRIPT else text


def _chunks(word: str, budget: int) -> list[str]:
    return [word[k : k + budget] for k in range(0, len(word), budget)]


def _pack(lines: list[str], budget: int) -> list[str]:
    """Lines into parts of at most ``budget`` characters. A short line (a phone number, a
    numbered choice) that does not fit what is left of a part starts the next one whole;
    a longer line flows on word by word, never breaking inside a number."""
    parts: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= budget:
            current = candidate
            continue
        if len(line) <= budget and (_CHOICE.match(line) or len(line) <= budget // 3):
            parts.append(current)
            current = line
            continue
        joiner = "\n"
        for word in _WORD_BREAK.split(line):
            candidate = f"{current}{joiner}{word}" if current else word
            joiner = " "
            if len(candidate) <= budget:
                current = candidate
                continue
            if current:
                parts.append(current)
            pieces = _chunks(word, budget) if len(word) > budget else [word]
            parts.extend(pieces[:-1])
            current = pieces[-1]
    if current:
        parts.append(current)
    return parts


def sms_parts(text: str, max_parts: int) -> list[str]:
    """Split into numbered parts that each fit one SMS segment ("(1/3) ..."), keeping short
    lines (such as numbered choices) whole; at most ``max_parts``, the last one cut with an
    ellipsis if the text is longer still."""
    gsm = is_gsm(text)
    lines = [line for line in text.split("\n") if line.strip()]
    whole = "\n".join(lines) or text
    if len(whole) <= (GSM_SINGLE if gsm else UNICODE_SINGLE):
        return [whole]
    size = GSM_PART if gsm else UNICODE_PART
    budget = size - len("(1/9) ")  # room for the part's number
    parts = _pack(lines, budget) or [""]
    if len(parts) > 9:
        budget = size - len("(10/99) ")
        parts = _pack(lines, budget)
    if len(parts) > max_parts:
        more = "..." if gsm else "…"
        parts = [*parts[: max_parts - 1], parts[max_parts - 1][: budget - len(more)] + more]
    return [f"({n}/{len(parts)}) {part}" for n, part in enumerate(parts, 1)]


def as_sms(messages: Sequence[Outbound], first: int = 1) -> tuple[Outbound, ...]:
    """Replies as the SMS they become: the short form when there is one, else the text; any
    choices as numbered lines, numbered on across the messages sent together from ``first``
    (as the router numbered them, so that a bare digit picks what it showed); typography in
    GSM-7 where the language allows."""
    rendered: list[Outbound] = []
    texts = plain_texts(messages, short=True, first=first)
    for message, plain in zip(messages, texts, strict=True):
        text = gsm_typography(plain, message.language)
        rendered.append(replace(message, text=text, buttons=(), short=None))
    return tuple(rendered)


def _number(configured: str) -> str:
    """A configured number as the gateway takes it: "+47 26 11 00 01" -> "+4726110001"."""
    return "".join(c for c in configured if c.isdigit() or c == "+")


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class SmsChannel:
    """Receives signed gateway webhooks and sends replies with httpx."""

    router: Router
    settings: SmsSettings
    shared_secret: str
    api_token: str | None
    transport: httpx.AsyncBaseTransport | None = None
    clock: Callable[[], float] = time.time
    backoff_base_s: float = 2.0
    backoff_max_s: float = 900.0

    def __post_init__(self) -> None:
        self._client = httpx.AsyncClient(transport=self.transport, timeout=10.0)
        self.senders = {
            area.id: _number(area.sms_number)
            for area in self.router.settings.areas
            if area.sms_number
        }
        """Area id -> its own number, that its replies go out from (else ``sms.sender``)."""
        self.deliverer = Deliverer(
            self.router.store,
            CHANNEL,
            render=as_sms,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
            metrics=self.router.metrics,
        )

    def _authentic(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get(self.settings.timestamp_header, "")
        signature = request.headers.get(self.settings.signature_header, "")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
            return False  # "²" and "٣" are digits too, and int() of 5,000 digits fails
        if abs(self.clock() - int(timestamp)) > self.settings.max_age_s:
            return False
        expected = sign(self.shared_secret, timestamp, body)
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

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
                data = load_json(body)
            else:
                data = dict(await request.form())
        except (ValueError, HTTPException):  # HTTPException: a malformed multipart body
            data = None
        if not isinstance(data, dict):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        number = clean_field(data.get(fields["from"]), 64)
        text = data.get(fields["text"], "")
        if number is None or not isinstance(text, str):  # a file upload is no text either
            return JSONResponse({"error": "bad_request"}, status_code=400)
        message_id = clean_field(data.get(fields["id"]))
        to = clean_field(data.get(fields.get("to", "to")), 64)  # the number: the area's
        address = self.router.address(CHANNEL, number)
        inbound = Inbound(CHANNEL, number, text, area=self.router.areas.by_sms(to))
        handled = await self.router.handle(inbound, external_id=message_id)
        await self._remember(address, number)
        fresh = () if handled.duplicate or handled.queued else as_sms(handled.replies)
        sender = await self._from(address)
        await self.deliverer.deliver(address, self._sender(number, sender), fresh)  # outbox 1st
        return JSONResponse({"status": "duplicate" if handled.duplicate else "ok"})

    async def _remember(self, address: str, number: str) -> None:
        """Keep the number with the conversation, for pushing los replies after a restart."""
        store = self.router.store
        try:
            await store.run(store.set_push_address, CHANNEL, address, number)
        except Exception as error:  # the answer matters more
            log.warning("storing the sms push address failed error=%s", type(error).__name__)

    async def _from(self, address: str) -> str:
        """The number a conversation's replies go out from: its area's own, else
        ``sms.sender`` (the conversation keeps the area it came in through)."""
        if not self.senders:
            return self.settings.sender
        store = self.router.store
        area = (await store.run(store.areas_of, CHANNEL, [address])).get(address, "")
        return self.senders.get(area, self.settings.sender)

    def _sender(self, number: str, sender: str | None = None) -> SendOne:
        async def send(message: Outbound, start: int, key: str | None) -> None:
            text = as_plain_text(message, short=True)
            parts = sms_parts(text, self.settings.max_parts)
            for index in range(start, len(parts)):
                reference = None if key is None else f"{key}-{index + 1}"
                await self._send_part(number, parts[index], index, reference, sender)

        return send

    async def _send_part(
        self, number: str, part: str, index: int, reference: str | None, sender: str | None
    ) -> None:
        """POST one part; raise Undelivered unless the gateway accepted it (2xx). The part's
        reference lets a gateway drop a repeat (sent again after a crash before it was
        acknowledged here)."""
        headers = {"Authorization": f"Bearer {self.api_token}"} if self.api_token else {}
        payload = {
            self.settings.to_field: number,
            self.settings.text_field: part,
            self.settings.from_field: sender or self.settings.sender,
        }
        if reference is not None and self.settings.reference_field:
            payload[self.settings.reference_field] = reference
        try:
            response = await self._client.post(
                self.settings.outbound_url, json=payload, headers=headers
            )
        except httpx.HTTPError as error:  # a timeout, a refused or broken connection
            raise Undelivered(type(error).__name__, parts_done=index) from None
        if not response.is_success:
            retry_after = _retry_after_s(response) if response.status_code == 429 else None
            raise Undelivered(
                f"HTTP {response.status_code}", parts_done=index, retry_after_s=retry_after
            )

    async def push_pending(self) -> int:
        """Deliver what waits for reachable numbers (each number on its own, at once);
        returns how many messages the gateway accepted."""
        store = self.router.store
        due = [
            (address, number)
            for address, number in await store.run(store.pending_pushes, CHANNEL)
            if number is not None and not self.deliverer.busy(address)
        ]
        areas = (
            await store.run(store.areas_of, CHANNEL, [a for a, _ in due]) if self.senders else {}
        )
        deliveries = [
            self.deliverer.deliver(
                address,
                self._sender(
                    number, self.senders.get(areas.get(address, ""), self.settings.sender)
                ),
            )
            for address, number in due
        ]
        return sum(await asyncio.gather(*deliveries))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
