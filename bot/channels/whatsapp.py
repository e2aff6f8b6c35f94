"""WhatsApp through Meta's Cloud API: a signed webhook in, Graph API POSTs out, with httpx.

- The webhook (``WhatsAppSettings.webhook_path``): GET answers Meta's subscription check
  (``hub.mode=subscribe``, ``hub.verify_token``, ``hub.challenge``); POST must carry
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>``, else
  401 and nothing is recorded. Only changes for the configured phone number id are taken.
- Inbound: text; a tapped reply button or list row is its payload (``button_reply`` /
  ``list_reply`` ids are the buttons' payloads); a template's quick reply is its text; images,
  audio, video, documents, stickers, locations and contacts are recorded as their kind with any
  caption (which still goes through the crisis check) and answered with the localized line
  that only text can be read. A message id seen before (Meta retrying) is acknowledged and not
  answered again: the id is kept only as a digest, since a wamid carries the phone number.
- Outbound (``message_payloads``): buttons become interactive reply buttons (at most 3, titles
  at most 20 characters, a body of at most 1024), else a list (at most 10 rows of 24
  characters), else numbered text; texts are split at 4096 characters. Delivery is exactly once
  at the message level (bot/channels/delivery.py); each part carries ``outbox-<id>-<part>`` as
  ``biz_opaque_callback_data``, which Meta echoes in its delivery statuses.
- The 24-hour customer-service window: the time of the citizen's last message is kept with the
  conversation (bot/store/whatsapp_contacts.py). When messages wait and the window is closed,
  nothing free-form is tried: if a los reply is among them, the configured template (per
  language) tells the citizen once that a reply from the familielos is waiting and to answer to
  read it; everything waits in the outbox until they write, which opens the window and sends
  it, in order, before the answer to what they wrote. WhatsApp's own word wins over our clock:
  a 131047 ("re-engagement message"), in the API's answer or in a failed status, closes the
  window, and a message it concerned goes back to the outbox.
- Delivery statuses (sent, delivered, read, failed) are logged with their outbox reference and
  error code, never a number or a text; a failed message is put back in the outbox.
- Phone numbers are never keys and never logged: the conversation is keyed by a keyed hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.attachments import Upload, check, too_big
from bot.channels.delivery import Deliverer, SendOne, Undelivered, backoff
from bot.channels.render import as_plain_text, split_text
from bot.i18n import Catalogs
from bot.router import Router
from bot.settings import WhatsAppSettings, WhatsAppTemplate
from bot.store.whatsapp_contacts import Contact, WhatsAppContacts
from bot.text_input import clean_field, load_json
from flows.types import N_, Button, Inbound, Outbound

CHANNEL = "whatsapp"
MAX_TEXT = 4096
MAX_BODY = 1024
"""An interactive message's body."""
MAX_REPLY_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_LIST_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION = 10, 24, 72
MAX_CHOICE_ID = 200
WINDOW = timedelta(hours=24)
WINDOW_MARGIN = timedelta(minutes=10)
"""Messages stop being sent free-form this long before the window ends (clocks differ)."""
WAIT_FOR_CITIZEN = timedelta(hours=6)
"""How long messages outside the window wait before the push loop looks at them again (the
citizen writing sends them at once)."""
MAX_WEBHOOK_BYTES = 512_000

OUTSIDE_WINDOW = 131047
UNDELIVERABLE = 131026
RATE_LIMITED = frozenset({4, 80007, 130429, 131048, 131056})
DOCUMENT_KINDS = ("image", "document")
"""Media a family may send into an open case (a photo or a PDF of a letter)."""
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker", "location", "contacts")
IGNORED_KINDS = ("reaction", "system", "ephemeral", "request_welcome")
"""Not messages to answer: a reaction to one of ours, a changed number, and the like."""
TEMPLATE_REFERENCE = "reply-waiting"
_OUTBOX_REFERENCE = re.compile(r"^outbox-([0-9]{1,12})-[0-9]{1,4}$")
log = logging.getLogger(__name__)

Shape = Literal["buttons", "list", "text"]


def signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header Meta sends with a webhook of this raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def button_shape(outbound: Outbound) -> Shape | None:
    """How a message's choices can go: reply buttons, a list, or only as numbered text."""
    buttons = outbound.buttons
    if not buttons:
        return None
    payloads = [b.payload for b in buttons]
    titles = [b.label.strip() for b in buttons]
    if len(set(payloads)) < len(payloads) or len(set(titles)) < len(titles):
        return "text"
    if any(not p or len(p) > MAX_CHOICE_ID for p in payloads) or not all(titles):
        return "text"
    longest = max(len(title) for title in titles)
    if len(buttons) <= MAX_REPLY_BUTTONS and longest <= MAX_BUTTON_TITLE:
        return "buttons"
    fits = len(buttons) <= MAX_LIST_ROWS and longest <= MAX_ROW_DESCRIPTION
    if fits and row_titles(titles) is not None:
        return "list"
    return "text"


def row_titles(labels: list[str]) -> list[str] | None:
    """The list rows' titles, each its label's start; when two starts are the same (two
    times on one day: "torsdag 26. november 10:00" and "... 10:30") the start and the last
    word. None when they still cannot be told apart."""
    for keep_end in (False, True):
        rows = [row_title(label, keep_end=keep_end) for label in labels]
        if len(set(rows)) == len(rows):
            return rows
    return None


def row_title(label: str, keep_end: bool = False) -> str:
    """A list row's title: the label, or (longer than a row title may be) its first words and
    "…" (``keep_end``: and its last word); the whole label then goes in the row's
    description."""
    label = label.strip()
    if len(label) <= MAX_ROW_TITLE:
        return label
    tail = label.rsplit(" ", 1)[-1] if keep_end else ""
    if tail and len(tail) < MAX_ROW_TITLE // 3:
        return row_title(label[: MAX_ROW_TITLE - len(tail) - 2]).rstrip("…") + "… " + tail
    head = label[: MAX_ROW_TITLE - 1]
    cut = head.rfind(" ")
    return (head[:cut] if cut > MAX_ROW_TITLE // 4 else head).rstrip(" ,.;:") + "…"


def _row(button: Button, title: str) -> dict[str, str]:
    label = button.label.strip()
    row = {"id": button.payload, "title": title}
    if row["title"] != label:
        row["description"] = label
    return row


def as_whatsapp(messages: Sequence[Outbound], first: int = 1) -> tuple[Outbound, ...]:
    """Replies sent together as WhatsApp carries them: choices that fit neither buttons nor a
    list become numbered text, numbered across the messages from ``first`` as the router
    numbered them (so a typed number picks the right one)."""
    rendered: list[Outbound] = []
    for message in messages:
        count = len(message.buttons)
        if button_shape(message) == "text":
            message = replace(message, text=as_plain_text(message, first), buttons=())
        first += count
        rendered.append(message)
    return tuple(rendered)


def _cut_tail(text: str, limit: int) -> tuple[str, str]:
    """``text`` as a head and a tail of at most ``limit`` characters, cut at a paragraph,
    line or word boundary where there is one."""
    if len(text) <= limit:
        return "", text
    start = len(text) - limit
    for boundary in ("\n\n", "\n", " "):
        at = text.find(boundary, start)
        if at != -1 and at - start < limit // 2:
            return text[:at].rstrip(), text[at:].strip()
    return text[:start], text[start:]


def message_payloads(outbound: Outbound, list_label: str) -> list[dict[str, Any]]:
    """The Cloud API message objects (without ``to``) one message goes out as: text parts of
    at most 4096 characters, the last one carrying the choices as reply buttons or a list."""
    shape = button_shape(outbound)
    if shape == "text":
        outbound = replace(outbound, text=as_plain_text(outbound), buttons=())
        shape = None
    parts = split_text(outbound.text, MAX_TEXT)
    if shape is None:
        return [_text(part) for part in parts]
    head, body = _cut_tail(parts.pop(), MAX_BODY)
    if head:
        parts.append(head)
    payloads = [_text(part) for part in parts]
    body = body or "…"
    if shape == "buttons":
        buttons = [
            {"type": "reply", "reply": {"id": b.payload, "title": b.label.strip()}}
            for b in outbound.buttons
        ]
        action: dict[str, Any] = {"buttons": buttons}
    else:
        titles = row_titles([b.label.strip() for b in outbound.buttons]) or []
        rows = [_row(b, title) for b, title in zip(outbound.buttons, titles, strict=True)]
        action = {"button": list_label[:MAX_BUTTON_TITLE], "sections": [{"rows": rows}]}
    interactive = {"type": "button" if shape == "buttons" else "list", "body": {"text": body}}
    payloads.append({"type": "interactive", "interactive": {**interactive, "action": action}})
    return payloads


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def template_payload(template: WhatsAppTemplate) -> dict[str, Any]:
    """The Cloud API message object of a template without parameters."""
    return {
        "type": "template",
        "template": {"name": template.name, "language": {"code": template.language}},
    }


def template_definitions(
    catalogs: Catalogs, settings: WhatsAppSettings, languages: Sequence[str]
) -> list[dict[str, Any]]:
    """The "a reply is waiting" templates to register with Meta (one per template name and
    language code configured), their text from the catalogs: the bodies of
    ``POST /<WABA id>/message_templates``."""
    definitions: dict[tuple[str, str], dict[str, Any]] = {}
    for language in languages:
        template = settings.reply_waiting_templates.get(language)
        if template is None or (template.name, template.language) in definitions:
            continue
        text = catalogs(N_("whatsapp.template.reply_waiting"), language)
        definitions[(template.name, template.language)] = {
            "name": template.name,
            "language": template.language,
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": text}],
        }
    return list(definitions.values())


def _marked(kind: str, words: str | None) -> str:
    """The text recorded for something that is not text: its kind and any caption."""
    return f"[{kind}] {words}" if words else f"[{kind}]"


def _message_reference(wamid: str | None) -> str | None:
    """The id a retry is recognised by: a digest of the wamid (which carries the number, and
    whose first characters are the same for every message from one number)."""
    if not wamid:
        return None
    return "wa-" + hashlib.sha256(wamid.encode("utf-8", "replace")).hexdigest()[:32]


def _error_code(response: httpx.Response) -> int | None:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _retry_after_s(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


@dataclass(frozen=True)
class Received:
    """One citizen message from a webhook, as the router takes it."""

    number: str
    inbound: Inbound
    reference: str | None
    sent_at: float | None
    media_id: str | None = None
    """An image's or a document's media id (fetched from the Graph API for an open case)."""
    caption: str = ""


def parse_message(message: object) -> Received | None:
    """A webhook's message as an inbound one; None for what is not a message to answer."""
    if not isinstance(message, dict):
        return None
    number = clean_field(message.get("from"), 32)
    kind = clean_field(message.get("type"), 32) or "unknown"
    if number is None or kind in IGNORED_KINDS:
        if kind in IGNORED_KINDS:
            log.info("whatsapp: a %s, not answered", kind)
        return None
    content = message.get(kind)
    content = content if isinstance(content, dict) else {}
    text, button, media = "", None, None
    media_id: str | None = None
    said_with = ""
    if kind == "text":
        body = content.get("body")
        text = body if isinstance(body, str) else ""
    elif kind == "interactive":
        reply = content.get("button_reply") or content.get("list_reply")
        button = clean_field(reply.get("id")) if isinstance(reply, dict) else None
        if button is None:
            media = "interactive"
    elif kind == "button":  # a quick reply of a template: its text is what they said
        words = content.get("text")
        text = words if isinstance(words, str) else ""
    else:
        caption = content.get("caption")
        media = kind if kind in MEDIA_KINDS else "unsupported"
        text = _marked(media, caption if isinstance(caption, str) else None)
        if kind in DOCUMENT_KINDS:
            media_id = clean_field(content.get("id"), 128)
            said_with = caption if isinstance(caption, str) else ""
    stamp = clean_field(message.get("timestamp"), 12)
    sent_at = float(stamp) if stamp is not None and stamp.isascii() and stamp.isdigit() else None
    reference = _message_reference(clean_field(message.get("id"), 256))
    inbound = Inbound(CHANNEL, number, text, None, button, media=media)
    return Received(number, inbound, reference, sent_at, media_id, said_with)


class WhatsAppChannel:
    """Receives the Cloud API's signed webhooks and sends replies with httpx."""

    def __init__(
        self,
        router: Router,
        settings: WhatsAppSettings,
        token: str,
        app_secret: str,
        verify_token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 900.0,
    ) -> None:
        self.router = router
        self.settings = settings
        self._token = token
        self._app_secret = app_secret
        self._verify_token = verify_token
        self._client = httpx.AsyncClient(transport=transport, timeout=10.0)
        self._url = (
            f"{settings.api_url.rstrip('/')}/{settings.api_version}/"
            f"{settings.phone_number_id}/messages"
        )
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.contacts = WhatsAppContacts(router.store.sessions, router.clock)
        self.deliverer = Deliverer(
            router.store,
            CHANNEL,
            render=as_whatsapp,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            metrics=router.metrics,
        )

    # -- the webhook --------------------------------------------------------------------

    async def verify(self, request: Request) -> Response:
        """Meta's subscription check: echo the challenge when the verify token is ours."""
        query = request.query_params
        given = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge", "")
        ours = hmac.compare_digest(
            given.encode("utf-8", "replace"), self._verify_token.encode("utf-8", "replace")
        )
        if (
            query.get("hub.mode") == "subscribe"
            and ours
            and re.fullmatch(r"[\w.-]{1,128}", challenge)
        ):
            return PlainTextResponse(challenge)
        return Response(status_code=403)

    def _authentic(self, request: Request, body: bytes) -> bool:
        given = request.headers.get("x-hub-signature-256", "")
        expected = signature(self._app_secret, body)
        return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))

    async def webhook(self, request: Request) -> Response:
        """Messages and statuses: 401 unless signed with the app secret; a retried message is
        acknowledged and not answered again."""
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return JSONResponse({"error": "too_large"}, status_code=413)
        if not self._authentic(request, body):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        try:
            data = load_json(body)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        for value in self._values(data["entry"]):
            for message in _list(value.get("messages")):
                received = parse_message(message)
                if received is not None:
                    await self._receive(received)
            for status in _list(value.get("statuses")):
                if isinstance(status, dict):
                    await self._on_status(status)
            for error in _list(value.get("errors")):  # about the account, not a message
                code = error.get("code") if isinstance(error, dict) else None
                log.warning("whatsapp: the Cloud API reports an error code=%s", code)
        return JSONResponse({"status": "ok"})

    def _values(self, entries: list[object]) -> list[dict[str, Any]]:
        """The ``messages`` changes for our phone number."""
        values = []
        for entry in entries:
            for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
                if not isinstance(change, dict) or change.get("field") != "messages":
                    continue
                value = change.get("value")
                if not isinstance(value, dict):
                    continue
                metadata = value.get("metadata")
                number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
                if str(number_id) != self.settings.phone_number_id:
                    log.warning("whatsapp: a change for another phone number id, ignored")
                    continue
                values.append(value)
        return values

    async def _receive(self, received: Received) -> None:
        address = self.router.address(CHANNEL, received.number)
        inbound = received.inbound
        upload = await self._fetch(received.media_id) if received.media_id else None
        if upload is not None:  # a document for the case: its caption is the words
            inbound = replace(inbound, text=received.caption, media=None)
        handled = await self.router.handle(inbound, external_id=received.reference, upload=upload)
        now = self.router.clock().timestamp()
        seen = now if received.sent_at is None else min(now, received.sent_at)
        store = self.router.store
        try:
            await store.run(self.contacts.seen, address, received.number, seen)
        except Exception as error:  # the answer matters more
            log.warning("whatsapp: storing the contact failed error=%s", type(error).__name__)
        fresh = () if handled.duplicate or handled.queued else as_whatsapp(handled.replies)
        await self.deliverer.deliver(address, self._sender(received.number, address), fresh)

    async def _fetch(self, media_id: str) -> Upload | None:
        """An image or a document from the Graph API (its URL, then its bytes, read no further
        than the limit) and checked (``bot.attachments``). None when it could not be fetched:
        then it is answered as media the bot cannot take."""
        limits = self.router.settings.attachments
        headers = {"Authorization": f"Bearer {self._token}"}
        base = f"{self.settings.api_url.rstrip('/')}/{self.settings.api_version}"
        try:
            described = await self._client.get(f"{base}/{media_id}", headers=headers)
            described.raise_for_status()
            facts = load_json(described.content)
            url = facts.get("url") if isinstance(facts, dict) else None
            size = facts.get("file_size") if isinstance(facts, dict) else None
            if isinstance(size, int) and size > limits.max_bytes:
                return too_big(size)
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                return None
            content = bytearray()
            async with self._client.stream("GET", url, headers=headers) as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    content.extend(chunk)
                    if len(content) > limits.max_bytes:
                        return too_big(len(content))
        except (httpx.HTTPError, ValueError) as error:
            log.warning("whatsapp: fetching a media file failed error=%s", type(error).__name__)
            return None
        return check(bytes(content), limits)

    async def _on_status(self, status: dict[str, Any]) -> None:
        """A delivery status: logged (the outbox reference and error code, nothing else); a
        failed message goes back to the outbox, and a 131047 closes the window."""
        state = clean_field(status.get("status"), 16) or "unknown"
        reference = clean_field(status.get("biz_opaque_callback_data"), 64)
        errors = _list(status.get("errors"))
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        code = first.get("code") if isinstance(first.get("code"), int) else None
        known = reference is not None and (
            reference == TEMPLATE_REFERENCE or _OUTBOX_REFERENCE.match(reference) is not None
        )
        shown = reference if known else "-"
        level = logging.WARNING if state == "failed" else logging.INFO
        log.log(level, "whatsapp status=%s ref=%s code=%s", state, shown, code)
        if state != "failed":
            return
        recipient = clean_field(status.get("recipient_id"), 32)
        if recipient is None:
            return
        address = self.router.address(CHANNEL, recipient)
        store = self.router.store
        if code == OUTSIDE_WINDOW:
            await store.run(self.contacts.window_closed, address)
        elif code == UNDELIVERABLE:
            await store.run(store.mark_unreachable, CHANNEL, address, True)
        matched = _OUTBOX_REFERENCE.match(reference or "")
        if matched is not None:
            delay = backoff(1, self.backoff_base_s, self.backoff_max_s)
            reopened = await store.run(self.contacts.reopen, address, int(matched[1]), delay)
            log.info("whatsapp: failed message back in the outbox=%s", reopened)

    # -- sending ------------------------------------------------------------------------

    def _sender(self, number: str, address: str) -> SendOne:
        async def send(message: Outbound, start: int, key: str | None) -> None:
            label = self.router.catalogs(N_("whatsapp.list.open"), message.language)
            payloads = message_payloads(message, label)
            for index in range(start, len(payloads)):
                reference = None if key is None else f"{key}-{index + 1}"
                await self._post(number, address, payloads[index], index, reference)

        return send

    async def _post(
        self,
        number: str,
        address: str,
        payload: dict[str, Any],
        index: int,
        reference: str | None,
    ) -> None:
        """POST one message; raise Undelivered unless the Cloud API accepted it."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": number,
            **payload,
        }
        if reference is not None:
            body["biz_opaque_callback_data"] = reference
        try:
            response = await self._client.post(
                self._url, json=body, headers={"Authorization": f"Bearer {self._token}"}
            )
        except httpx.HTTPError as error:  # a timeout, a refused or broken connection
            raise Undelivered(type(error).__name__, parts_done=index) from None
        if response.is_success:
            return
        code = _error_code(response)
        if code == OUTSIDE_WINDOW:  # the push loop sends the template next
            await self.router.store.run(self.contacts.window_closed, address)
            raise Undelivered("OutsideWindow", parts_done=index, retry_after_s=0.0)
        if code == UNDELIVERABLE:
            raise Undelivered("Undeliverable", parts_done=index, blocked=True)
        limited = response.status_code == 429 or code in RATE_LIMITED
        raise Undelivered(
            f"HTTP {response.status_code} code {code}",
            parts_done=index,
            retry_after_s=_retry_after_s(response) if limited else None,
        )

    async def push_pending(self) -> int:
        """Deliver what waits for reachable citizens (each on its own, at once): inside the
        window as it is; outside, the template once for a waiting los reply, and the rest
        waits. Returns how many messages the Cloud API accepted."""
        store = self.router.store
        pushes = await store.run(store.pending_pushes, CHANNEL)
        now = self.router.clock()
        work = []
        for address, raw in pushes:
            contact = Contact.parse(raw)
            if contact is None or self.deliverer.busy(address):
                continue
            if contact.window_open(now, WINDOW - WINDOW_MARGIN):
                work.append(self.deliverer.deliver(address, self._sender(contact.to, address)))
            else:
                work.append(self._outside_window(address, contact))
        return sum(await asyncio.gather(*work))

    async def _outside_window(self, address: str, contact: Contact) -> int:
        """The window is closed: tell the citizen once that a los reply waits (the template),
        and keep every message for when they write."""
        store = self.router.store
        lease = timedelta(seconds=30)
        waiting = await store.run(store.claim_pending, CHANNEL, address, lease=lease)
        if not waiting.ids:
            return 0
        wait = WAIT_FOR_CITIZEN
        los = [m for m in waiting.messages if m.sender == "los"]
        if los and not contact.nudged_since_seen:
            template = self._template(los[0].language)
            if template is None:
                log.warning("whatsapp: a los reply waits; no template for its language")
            elif await self._send_template(contact.to, template):
                at = self.router.clock().timestamp()
                await store.run(self.contacts.nudged, address, at)
            else:
                wait = backoff(1, self.backoff_base_s, self.backoff_max_s)
        await store.run(store.postpone, list(waiting.ids), wait)
        return 0

    def _template(self, language: str) -> WhatsAppTemplate | None:
        templates = self.settings.reply_waiting_templates
        default = self.router.settings.languages.default
        return templates.get(language) or templates.get(default)

    async def _send_template(self, number: str, template: WhatsAppTemplate) -> bool:
        """Send the "a reply is waiting" template; whether the Cloud API accepted it."""
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": number,
            "biz_opaque_callback_data": TEMPLATE_REFERENCE,
            **template_payload(template),
        }
        try:
            response = await self._client.post(
                self._url, json=body, headers={"Authorization": f"Bearer {self._token}"}
            )
        except httpx.HTTPError as error:
            log.warning("whatsapp: the template failed error=%s", type(error).__name__)
            return False
        if not response.is_success:
            log.warning(
                "whatsapp: the template failed HTTP %s code %s",
                response.status_code,
                _error_code(response),
            )
            return False
        log.info("whatsapp: a los reply waits outside the window; template sent")
        return True

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
