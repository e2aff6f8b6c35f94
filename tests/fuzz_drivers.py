"""Drive every surface with the bad-input catalogue (tests/fuzz_inputs.py) and report crashes.

A crash is a 5xx, an exception out of the application, a traceback in a response or on
stderr, an error logged with a stack trace, a message set aside as poison or answered with
the "something went wrong" reply, a process that died, or a next good message ("hei") from
the same sender that is not answered. Each driver returns the classes it tried and what
crashed; the fuzz tests assert there is nothing, the script prints a table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
from sqlalchemy import select

from bot.app import App
from bot.channels.sms import SmsChannel, sign
from bot.channels.telegram import TelegramChannel
from bot.settings import PROJECT_ROOT, SmsSettings
from bot.store.crypto import new_key
from bot.store.models import Message
from bot.web import create_web_app
from tests.fakes.telegram_api import FakeTelegram, running
from tests.fuzz_inputs import (
    CLIENT_TOKENS,
    MALFORMED_JSON,
    PATH_TRICKS,
    RAW_BYTES,
    TEXTS,
    WRONG_TYPES,
    BadInput,
    json_bytes,
)

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
STAFF_PASSWORD = "fuzz-console-password"
ORIGIN = "http://inngang.fuzz"
SMS_SECRET = "fuzz-gateway-secret"
TELEGRAM_SECRET = "fuzz-webhook-secret"


@dataclass
class Report:
    """What one surface was given and what went wrong."""

    surface: str
    tried: list[str] = field(default_factory=list)
    crashes: dict[str, str] = field(default_factory=dict)

    def crash(self, name: str, reason: str) -> None:
        self.crashes.setdefault(name, reason)


LOST = ("handling failed", "storing the")
"""Warnings that say a message was set aside, or its sender's address not kept."""


class LoggedFailures(logging.Handler):
    """Errors and stack traces logged anywhere, and handling failures the router logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info or record.levelno >= logging.ERROR or message.startswith(LOST):
            self.records.append(record)

    def take(self) -> str | None:
        if not self.records:
            return None
        first = self.records[0]
        reason = f"logged: {first.name}: {first.getMessage()[:120]}"
        if first.exc_info and first.exc_info[0] is not None:
            reason += f" ({first.exc_info[0].__name__})"
        self.records.clear()
        return reason


@contextlib.contextmanager
def watching_logs() -> Iterator[LoggedFailures]:
    handler = LoggedFailures()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def wire(value: str) -> bytes:
    """A header value as bytes on the wire: Latin-1 where it fits (servers decode headers
    as Latin-1), else UTF-8 (lone surrogates as such)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def response_problem(response: httpx.Response) -> str | None:
    """A 5xx or a traceback in the body."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if TRACEBACK.search(response.text):
        return "traceback in the response"
    return None


def refused_clearly(response: httpx.Response) -> bool:
    """A 4xx says what is wrong: a JSON error, or a status that says it all."""
    if response.status_code < 400 or response.status_code in (401, 403, 404, 405):
        return True
    with contextlib.suppress(ValueError):
        body = response.json()
        return isinstance(body, dict) and bool(body.get("error"))
    return False


def lost_messages(app: App) -> list[str]:
    """Recorded messages that wait unhandled or were set aside as poison."""
    with app.store.sessions() as session:
        failed = session.scalars(select(Message.failure).where(Message.failure.is_not(None)))
        return [*failed, *(f"unhandled {m}" for m in app.store.unhandled_inbound())]


async def run_all(
    report: Report, app: App, cases: list[tuple[str, Callable[[], Awaitable[str | None]]]]
) -> Report:
    """Every case, watching the logs; then whether anything recorded was lost."""
    with watching_logs() as logs:
        for name, attempt in cases:
            await probe(report, logs, name, attempt)
    for lost in lost_messages(app):
        report.crash("nothing lost", lost)
    return report


async def probe(
    report: Report,
    logs: LoggedFailures,
    name: str,
    attempt: Callable[[], Awaitable[str | None]],
) -> None:
    """Run one class; anything raised, logged or returned as a problem is its crash."""
    report.tried.append(name)
    try:
        problem = await attempt()
    except Exception as error:  # the crash we are looking for
        problem = f"raised {type(error).__name__}"
    logged = logs.take()
    if problem or logged:
        report.crash(name, problem or logged or "")


# The web chat API.


class WebHarness:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def chat(
        self,
        body: bytes,
        headers: dict[str, str | bytes] | None = None,
        path: str = "/api/chat",
    ) -> httpx.Response:
        return await self.client.post(
            path, content=body, headers={"content-type": "application/json", **(headers or {})}
        )

    async def answered(self, response: httpx.Response) -> str | None:
        """The problem with ``response``, or with the next good message from the same
        visitor (their token when they got one, else a new visitor)."""
        problem = response_problem(response)
        if problem:
            return problem
        if not refused_clearly(response):
            return f"HTTP {response.status_code} without an error"
        token = None
        with contextlib.suppress(ValueError, AttributeError):
            token = response.json().get("token")
        headers: dict[str, str | bytes] = {"x-chat-token": token} if isinstance(token, str) else {}
        good = await self.chat(json_bytes({"text": "hei"}), headers)
        if good.status_code != 200 or not good.json()["replies"]:
            return f"next good message: HTTP {good.status_code}"
        if any("noe gikk galt" in r["text"] for r in response_replies(response)):
            return "answered with the safe reply"
        return None


def response_replies(response: httpx.Response) -> list[dict[str, Any]]:
    with contextlib.suppress(ValueError, AttributeError):
        replies = response.json().get("replies")
        if isinstance(replies, list):
            return replies
    return []


def web_cases(web: WebHarness) -> list[tuple[str, Callable[[], Awaitable[str | None]]]]:
    cases: list[tuple[str, Callable[[], Awaitable[str | None]]]] = []

    def add(name: str, send: Callable[[], Awaitable[httpx.Response]]) -> None:
        async def attempt() -> str | None:
            return await web.answered(await send())

        cases.append((name, attempt))

    for c in TEXTS:
        add(f"text: {c.name}", lambda v=c.value: web.chat(json_bytes({"text": v})))
        add(f"button: {c.name}", lambda v=c.value: web.chat(json_bytes({"button": v})))
        add(f"id: {c.name}", lambda v=c.value: web.chat(json_bytes({"text": "hei", "id": v})))
    for c in RAW_BYTES:
        add(f"text: {c.name}", lambda v=c.value: web.chat(b'{"text": "' + v + b'"}'))
        add(f"body: {c.name}", lambda v=c.value: web.chat(v))
    for c in MALFORMED_JSON:
        add(f"body: {c.name}", lambda v=c.value: web.chat(v))
    for name in ("text", "button", "id", "token"):
        for c in WRONG_TYPES:
            body = {"text": "hei", name: c.value}
            add(f"{name} of type {c.name}", lambda b=body: web.chat(json_bytes(b)))
    for c in CLIENT_TOKENS:
        add(
            f"token header: {c.name}",
            lambda v=c.value: web.chat(json_bytes({"text": "hei"}), {"x-chat-token": wire(v)}),
        )
        add(
            f"token in body: {c.name}",
            lambda v=c.value: web.chat(json_bytes({"text": "hei", "token": v})),
        )
        add(
            f"token to poll: {c.name}",
            lambda v=c.value: web.chat(b"", {"x-chat-token": wire(v)}, "/api/poll"),
        )
        add(
            f"token to history: {c.name}",
            lambda v=c.value: web.client.get("/api/history", headers={"x-chat-token": wire(v)}),
        )
    add("token in query", lambda: web.chat(json_bytes({"text": "hei"}), path="/api/chat?token=x"))
    for language in ("", "xx", "\x7f\x01", "æøå" * 3, "ar-SA;q=0.9, *;q=0.1", "x" * 10_000):
        add(
            f"accept-language {language[:12]!r}",
            lambda v=language: web.chat(
                json_bytes({"text": "hei"}),
                {"accept-language": wire(v)},
            ),
        )
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json; charset=latin-1",
        "application/xml",
    ):
        add(
            f"content-type {content_type}",
            lambda v=content_type: web.chat(json_bytes({"text": "hei"}), {"content-type": v}),
        )
    add("body over the size limit", lambda: web.chat(json_bytes({"text": "x" * 600_000})))
    add("GET /api/chat", lambda: web.client.get("/api/chat"))
    add("PUT /api/poll", lambda: web.client.put("/api/poll"))
    add("DELETE /", lambda: web.client.delete("/"))
    for c in PATH_TRICKS:
        add(f"static path: {c.name}", lambda v=c.value: web.client.get(f"/static/{v}"))
        add(f"page language: {c.name}", lambda v=c.value: web.client.get(f"/?lang={v}"))
    add("page language: markup", lambda: web.client.get("/?lang=<script>alert(1)</script>"))
    add("embed.js with a query", lambda: web.client.get("/embed.js?x=%00&y=%ff"))

    async def reused_id() -> str | None:
        first = await web.chat(json_bytes({"text": "hei", "id": "reused-1"}))
        token = first.json()["token"]
        again = await web.chat(
            json_bytes({"text": "hvor er helsestasjonen?", "id": "reused-1"}),
            {"x-chat-token": token},
        )
        if again.status_code != 200 or "55 10 20 01" not in again.text:
            return "a reused id with different text was not answered as the new text"
        return await web.answered(again)

    cases.append(("message id reused with different text", reused_id))
    return cases


@contextlib.asynccontextmanager
async def web_client(app: App, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    web = create_web_app(app, staff_password=STAFF_PASSWORD, **kwargs)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


async def fuzz_web(app: App) -> Report:
    report = Report("web chat API")
    async with web_client(app) as client:
        return await run_all(report, app, web_cases(WebHarness(client)))


# The SMS webhook.


class FakeGateway:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        return httpx.Response(202, json={"id": str(len(self.sent))})


class SmsHarness:
    def __init__(self, client: httpx.AsyncClient, gateway: FakeGateway) -> None:
        self.client = client
        self.gateway = gateway
        self.ids = count()

    async def post(
        self,
        body: bytes,
        content_type: str = "application/json",
        *,
        timestamp: str | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        stamp = str(int(time.time())) if timestamp is None else timestamp
        headers = {
            "content-type": content_type,
            "X-Timestamp": wire(stamp),
            "X-Signature": sign(SMS_SECRET, stamp, body) if signature is None else wire(signature),
        }
        return await self.client.post("/sms/inbound", content=body, headers=headers)

    def body(self, fields: dict[str, Any]) -> bytes:
        return json_bytes({"from": "+4790000001", "id": f"m{next(self.ids)}", **fields})

    async def answered(
        self, response: httpx.Response, number: object = "+4790000001"
    ) -> str | None:
        problem = response_problem(response)
        if problem:
            return problem
        if not refused_clearly(response):
            return f"HTTP {response.status_code} without an error"
        sender = number if isinstance(number, str) and response.status_code == 200 else "+479999"
        before = len(self.gateway.sent)
        good = await self.post(
            json_bytes({"from": sender, "text": "hei", "id": f"g{next(self.ids)}"})
        )
        if good.status_code != 200 or len(self.gateway.sent) == before:
            return f"next good message: HTTP {good.status_code}, nothing sent"
        if any("noe gikk galt" in str(m.get("text")) for m in self.gateway.sent[before:]):
            return "answered with the safe reply"
        return None


def sms_cases(sms: SmsHarness) -> list[tuple[str, Callable[[], Awaitable[str | None]]]]:
    cases: list[tuple[str, Callable[[], Awaitable[str | None]]]] = []

    def add(
        name: str, send: Callable[[], Awaitable[httpx.Response]], number: object = None
    ) -> None:
        async def attempt() -> str | None:
            response = await send()
            return await sms.answered(response, number or "+4790000001")

        cases.append((name, attempt))

    for c in TEXTS:
        add(f"text: {c.name}", lambda v=c.value: sms.post(sms.body({"text": v})))
        add(
            f"number: {c.name}",
            lambda v=c.value: sms.post(sms.body({"text": "hei", "from": v})),
            c.value,
        )
        add(f"id: {c.name}", lambda v=c.value: sms.post(sms.body({"text": "hei", "id": v})))
    for c in RAW_BYTES:
        add(
            f"form text: {c.name}",
            lambda v=c.value: sms.post(
                b"from=%2B4790000001&id=f"
                + str(next(sms.ids)).encode()
                + b"&text="
                + quote_from_bytes(v).encode(),
                "application/x-www-form-urlencoded",
            ),
        )
        add(
            f"JSON text: {c.name}",
            lambda v=c.value: sms.post(b'{"from": "+4790000001", "text": "' + v + b'"}'),
        )
    for c in MALFORMED_JSON:
        add(f"body: {c.name}", lambda v=c.value: sms.post(v))
    for name in ("from", "text", "id"):
        for c in WRONG_TYPES:
            add(
                f"{name} of type {c.name}",
                lambda n=name, v=c.value: sms.post(sms.body({"text": "hei", n: v})),
            )
    for stamp in ("", "abc", "-1", "1.5", "²", "٣", "9" * 5000, "0", str(2**64), " 1"):
        add(
            f"timestamp {stamp[:10]!r}",
            lambda v=stamp: sms.post(sms.body({"text": "hei"}), timestamp=v),
        )
    for signature in ("", "00", "x" * 10_000, "æ", "\x7f"):
        add(
            f"signature {signature[:10]!r}",
            lambda v=signature: sms.post(sms.body({"text": "hei"}), signature=v),
        )
    for content_type in (
        "text/plain",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "",
    ):
        add(
            f"content-type {content_type!r}",
            lambda v=content_type: sms.post(sms.body({"text": "hei"}), v),
        )
    add("form without number", lambda: sms.post(b"text=hei", "application/x-www-form-urlencoded"))
    add(
        "form with repeated fields",
        lambda: sms.post(
            b"from=%2B4790000001&from=%2B4790000002&text=a&text=b&id=r1&id=r2",
            "application/x-www-form-urlencoded",
        ),
    )
    add(
        "form with NUL in number",
        lambda: sms.post(b"from=%2B47%00&text=hei", "application/x-www-form-urlencoded"),
    )
    add("body over the size limit", lambda: sms.post(sms.body({"text": "x" * 70_000})))

    async def reused_id() -> str | None:
        await sms.post(json_bytes({"from": "+4790000777", "text": "hei", "id": "same"}))
        before = len(sms.gateway.sent)
        again = await sms.post(
            json_bytes({"from": "+4790000777", "text": "hvor er helsestasjonen?", "id": "same"})
        )
        answer = " ".join(str(m["text"]) for m in sms.gateway.sent[before:])
        if "55 10 20 01" not in answer:
            return "a reused id with different text was not answered as the new text"
        return await sms.answered(again, "+4790000777")

    cases.append(("message id reused with different text", reused_id))
    return cases


async def fuzz_sms(app: App) -> Report:
    report = Report("SMS webhook")
    gateway = FakeGateway()
    channel = SmsChannel(
        app.router,
        SmsSettings(enabled=True),
        SMS_SECRET,
        None,
        transport=httpx.MockTransport(gateway.handler),
    )
    try:
        async with web_client(app, sms=channel) as client:
            return await run_all(report, app, sms_cases(SmsHarness(client, gateway)))
    finally:
        await channel.aclose()


# The Telegram webhook, through python-telegram-bot against the fake Bot API.


class TelegramHarness:
    def __init__(self, client: httpx.AsyncClient, fake: FakeTelegram) -> None:
        self.client = client
        self.fake = fake
        self.update_ids = count(10_000)
        self.users = count(7_000)

    async def post(self, body: bytes, secret: str = TELEGRAM_SECRET) -> httpx.Response:
        return await self.client.post(
            "/telegram/webhook",
            content=body,
            headers={
                "content-type": "application/json",
                "x-telegram-bot-api-secret-token": secret,
            },
        )

    def message(self, user: int, **overrides: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self.update_ids),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "F", "language_code": "nb"},
            "text": "hei",
        }
        message.update(overrides)
        return {"update_id": next(self.update_ids), "message": message}

    async def answered(self, response: httpx.Response, user: int) -> str | None:
        problem = response_problem(response)
        if problem:
            return problem
        if response.status_code not in (200, 400, 403):
            return f"HTTP {response.status_code}"
        before = len(self.fake.sent)
        good = await self.post(json.dumps(self.message(user)).encode())
        sent = self.fake.sent[before:]
        if good.status_code != 200 or not any(m["chat_id"] == user for m in sent):
            return f"next good message: HTTP {good.status_code}, no answer"
        if any("noe gikk galt" in m["text"] for m in self.fake.sent[before - 1 :] if before):
            return "answered with the safe reply"
        return None


def telegram_cases(tg: TelegramHarness) -> list[tuple[str, Callable[[], Awaitable[str | None]]]]:
    cases: list[tuple[str, Callable[[], Awaitable[str | None]]]] = []

    def add(name: str, update: Callable[[int], bytes]) -> None:
        async def attempt() -> str | None:
            user = next(tg.users)
            return await tg.answered(await tg.post(update(user)), user)

        cases.append((name, attempt))

    def as_json(build: Callable[[int], object]) -> Callable[[int], bytes]:
        return lambda user: json_bytes(build(user))

    for c in TEXTS:
        add(f"text: {c.name}", as_json(lambda u, v=c.value: tg.message(u, text=v)))
        add(f"callback data: {c.name}", as_json(lambda u, v=c.value: callback(tg, u, v)))
        add(f"caption: {c.name}", as_json(lambda u, v=c.value: media(tg, u, v)))
        add(
            f"language code: {c.name}",
            as_json(
                lambda u, v=c.value: tg.message(
                    u, **{"from": {"id": u, "is_bot": False, "first_name": "F", "language_code": v}}
                )
            ),
        )
    for c in RAW_BYTES:
        add(
            f"text: {c.name}",
            lambda u, v=c.value: (
                b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": '
                + str(u).encode()
                + b', "type": "private"}, "from": {"id": '
                + str(u).encode()
                + b', "is_bot": false, "first_name": "F"}, "text": "'
                + v
                + b'"}}'
            ),
        )
    for c in MALFORMED_JSON:
        add(f"body: {c.name}", lambda u, v=c.value: v)
    for c in WRONG_TYPES:
        add(
            f"update_id of type {c.name}",
            as_json(lambda u, v=c.value: {**tg.message(u), "update_id": v}),
        )
        add(
            f"message of type {c.name}",
            as_json(lambda u, v=c.value: {"update_id": next(tg.update_ids), "message": v}),
        )
        for name in ("text", "chat", "from", "date", "message_id", "entities"):
            add(
                f"message.{name} of type {c.name}",
                as_json(lambda u, n=name, v=c.value: tg.message(u, **{n: v})),
            )
        add(
            f"chat.id of type {c.name}",
            as_json(lambda u, v=c.value: tg.message(u, chat={"id": v, "type": "private"})),
        )
        add(
            f"from.id of type {c.name}",
            as_json(
                lambda u, v=c.value: tg.message(
                    u, **{"from": {"id": v, "is_bot": False, "first_name": "F"}}
                )
            ),
        )
        add(f"callback data of type {c.name}", as_json(lambda u, v=c.value: callback(tg, u, v)))
    for big in (2**63, 2**70, -(2**63)):
        add(
            f"huge ids {big}",
            as_json(lambda u, b=big: {**tg.message(u, message_id=b), "update_id": b}),
        )
    for kind in ("poll", "my_chat_member", "business_message", "future_update_kind"):
        add(
            f"update kind {kind}",
            as_json(
                lambda u, k=kind: {
                    "update_id": next(tg.update_ids),
                    k: {"id": "x", "anything": [1, {"a": None}]},
                }
            ),
        )
    add("group chat", as_json(lambda u: tg.message(u, chat={"id": -u, "type": "group"})))
    add(
        "channel post",
        as_json(
            lambda u: {
                "update_id": next(tg.update_ids),
                "channel_post": tg.message(u, chat={"id": -u, "type": "channel"})["message"],
            }
        ),
    )
    add(
        "edited message",
        as_json(
            lambda u: {
                "update_id": next(tg.update_ids),
                "edited_message": {**tg.message(u)["message"], "edit_date": 1},
            }
        ),
    )
    add(
        "entities out of range",
        as_json(
            lambda u: tg.message(
                u,
                text="/start",
                entities=[{"type": "bot_command", "offset": 10**6, "length": 10**6}],
            )
        ),
    )
    add(
        "callback without message",
        as_json(
            lambda u: {
                "update_id": next(tg.update_ids),
                "callback_query": {
                    "id": "c",
                    "from": {"id": u, "is_bot": False, "first_name": "F"},
                    "chat_instance": "x",
                    "data": "person",
                },
            }
        ),
    )
    add("wrong webhook secret", lambda u: json_bytes(tg.message(u)))

    async def wrong_secret() -> str | None:
        user = next(tg.users)
        response = await tg.post(json_bytes(tg.message(user)), secret="guess")
        if response.status_code != 403:
            return f"HTTP {response.status_code} for a wrong secret"
        return await tg.answered(response, user)

    cases[-1] = ("wrong webhook secret", wrong_secret)

    async def reused_id() -> str | None:
        user = next(tg.users)
        update = tg.message(user)
        await tg.post(json_bytes(update))
        before = len(tg.fake.sent)
        update["message"]["text"] = "hvor er helsestasjonen?"
        again = await tg.post(json_bytes(update))
        if not any("55 10 20 01" in m["text"] for m in tg.fake.sent[before:]):
            return "a reused update id with different text was not answered as the new text"
        return await tg.answered(again, user)

    cases.append(("update id reused with different text", reused_id))
    return cases


def callback(tg: TelegramHarness, user: int, data: object) -> dict[str, Any]:
    return {
        "update_id": next(tg.update_ids),
        "callback_query": {
            "id": f"cb{user}",
            "from": {"id": user, "is_bot": False, "first_name": "F"},
            "chat_instance": "x",
            "data": data,
            "message": tg.message(user, text="…")["message"],
        },
    }


def media(tg: TelegramHarness, user: int, caption: str) -> dict[str, Any]:
    photo = [{"file_id": "p", "file_unique_id": "u", "width": 9, "height": 9}]
    return tg.message(user, text=None, photo=photo, caption=caption)


async def fuzz_telegram(app: App) -> Report:
    report = Report("Telegram webhook")
    async with running(FakeTelegram()) as fake:
        channel = TelegramChannel(
            app.router, fake.token, base_url=fake.base_url, per_chat_interval_s=0.0
        )
        await channel.start_webhook("https://inngang.fuzz/telegram/webhook", TELEGRAM_SECRET)
        try:
            async with web_client(app, telegram=channel, telegram_secret=TELEGRAM_SECRET) as client:
                return await run_all(report, app, telegram_cases(TelegramHarness(client, fake)))
        finally:
            await channel.stop()


# The staff console.


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class ConsoleHarness:
    """kari signed in through the sign-in form: her session cookie in the client, her CSRF
    token in every form it sends (the fuzzed bytes follow it)."""

    def __init__(self, client: httpx.AsyncClient, reference: str) -> None:
        self.client = client
        self.reference = reference
        self.headers = {"Origin": ORIGIN}
        self.csrf = ""

    async def sign_in(self) -> None:
        form = await self.client.get("/staff/login")
        token = CSRF_FIELD.search(form.text)
        assert token, "no sign-in form"
        signed_in = await self.client.post(
            "/staff/login",
            data={"user": "kari", "password": STAFF_PASSWORD, "csrf": token.group(1)},
            headers=self.headers,
        )
        assert signed_in.status_code == 303, signed_in.status_code
        page = await self.client.get("/staff")
        found = CSRF_FIELD.search(page.text)
        assert found, "signed in, but no form on the queue page"
        self.csrf = found.group(1)

    def form(self, body: bytes) -> bytes:
        """The fuzzed form body after kari's CSRF token."""
        return f"csrf={self.csrf}&".encode() + body

    async def act(
        self,
        action: str,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        reference: str | None = None,
    ) -> httpx.Response:
        form = content_type is None or content_type == "application/x-www-form-urlencoded"
        extra = {"content-type": content_type or "application/x-www-form-urlencoded"}
        return await self.client.post(
            f"/staff/case/{reference or self.reference}/{action}",
            content=self.form(body or b"") if form else body or b"",
            headers={**self.headers, **extra, **(headers or {})},
        )

    async def answered(self, response: httpx.Response) -> str | None:
        problem = response_problem(response)
        if problem:
            return problem
        good = await self.client.get(f"/staff/case/{self.reference}")
        if good.status_code != 200 or self.reference not in good.text:
            return f"next good request: HTTP {good.status_code}"
        return None


def console_cases(con: ConsoleHarness) -> list[tuple[str, Callable[[], Awaitable[str | None]]]]:
    cases: list[tuple[str, Callable[[], Awaitable[str | None]]]] = []

    def add(name: str, send: Callable[[], Awaitable[httpx.Response]]) -> None:
        async def attempt() -> str | None:
            return await con.answered(await send())

        cases.append((name, attempt))

    def form(**fields: str) -> bytes:
        return "&".join(
            f"{k}={quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields.items()
        ).encode()

    for c in PATH_TRICKS:
        add(
            f"case reference: {c.name}",
            lambda v=c.value: con.client.get(f"/staff/case/{v}", headers=con.headers),
        )
        add(f"action on reference: {c.name}", lambda v=c.value: con.act("claim", reference=v))
        add(f"action name: {c.name}", lambda v=c.value: con.act(v))
    for ref in ("%00", "%ff%fe", "%ed%a0%80", "<script>", "x" * 5000, "%0d%0aX: y", "'; --"):
        add(
            f"case reference {ref[:12]!r}",
            lambda v=ref: con.client.get(f"/staff/case/{v}", headers=con.headers),
        )
        add(
            f"reply to reference {ref[:12]!r}",
            lambda v=ref: con.act("reply", form(text="hei"), reference=v),
        )
    for action in ("delete", "CLAIM", "claim.json", "", "%00"):
        add(f"unknown action {action!r}", lambda v=action: con.act(v))
    for c in TEXTS:
        add(f"reply text: {c.name}", lambda v=c.value: con.act("reply", form(text=v)))
        add(f"transfer to: {c.name}", lambda v=c.value: con.act("transfer", form(to=v)))
        add(
            f"duty on: {c.name}",
            lambda v=c.value: con.client.post(
                "/staff/duty",
                content=con.form(form(on=v)),
                headers={**con.headers, "content-type": "application/x-www-form-urlencoded"},
            ),
        )
    for c in RAW_BYTES:
        add(
            f"reply bytes: {c.name}",
            lambda v=c.value: con.act("reply", b"text=" + quote_from_bytes(v).encode()),
        )
        add(f"raw form bytes: {c.name}", lambda v=c.value: con.act("reply", v))
    add("form field repeated", lambda: con.act("reply", b"text=a&text=b"))
    add("form field without value", lambda: con.act("reply", b"text"))
    add("form of 1 MB", lambda: con.act("reply", b"text=" + b"x" * 1_000_000))
    add("JSON instead of a form", lambda: con.act("reply", b'{"text": "hei"}', "application/json"))
    add(
        "multipart with a file",
        lambda: con.act(
            "reply",
            b'--b\r\nContent-Disposition: form-data; name="text"; filename="x.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nhei\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    )
    add(
        "malformed multipart",
        lambda: con.act("reply", b"--b\r\nnonsense\r\n", "multipart/form-data; boundary=b"),
    )
    add("multipart without boundary", lambda: con.act("reply", b"x", "multipart/form-data"))
    add("missing Origin", lambda: con.act("claim", headers={"Origin": ""}))
    add("foreign Origin", lambda: con.act("claim", headers={"Origin": "https://evil.example"}))
    add("null Origin", lambda: con.act("claim", headers={"Origin": "null"}))
    add("cross-site fetch", lambda: con.act("claim", headers={"Sec-Fetch-Site": "cross-site"}))
    for cookie in (
        "inngang_staff=" + "A" * 100_000,
        "inngang_staff=\u00e6\u00f8\u00e5",
        "inngang_staff=forged",
        "inngang_staff=; inngang_staff=x",
        "inngang_staff=%00",
        "inngang_sign_in=" + "B" * 5000,
    ):
        add(
            f"session cookie {cookie[:24]!r}",
            lambda v=cookie: bare_get(con, "/staff", {"Cookie": v.encode("utf-8")}),
        )
    for c in TEXTS:
        add(
            f"sign-in name: {c.name}",
            lambda v=c.value: sign_in_with(con, form(user=v, password="x")),
        )
        add(
            f"sign-in password: {c.name}",
            lambda v=c.value: sign_in_with(con, form(user="kari", password=v)),
        )
        add(f"sign-in next: {c.name}", lambda v=c.value: sign_in_with(con, form(next=v)))
    for c in RAW_BYTES:
        add(f"sign-in bytes: {c.name}", lambda v=c.value: sign_in_with(con, v))
    return cases


async def bare_get(con: ConsoleHarness, path: str, headers: dict[str, bytes]) -> httpx.Response:
    """A request with only these headers (not kari's cookies)."""
    transport = con.client._transport  # the same app
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as bare:
        return await bare.get(path, headers=headers)


async def sign_in_with(con: ConsoleHarness, body: bytes) -> httpx.Response:
    """The sign-in form sent with these fields from a fresh browser (its own sign-in token
    first), so kari's session is left alone."""
    transport = con.client._transport
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as fresh:
        page = await fresh.get("/staff/login")
        token = CSRF_FIELD.search(page.text)
        prefix = f"csrf={token.group(1) if token else ''}&".encode()
        return await fresh.post(
            "/staff/login",
            content=prefix + body,
            headers={"Origin": ORIGIN, "content-type": "application/x-www-form-urlencoded"},
        )


async def fuzz_console(app: App) -> Report:
    from tests.journey import Citizen

    report = Report("staff console")
    citizen = Citizen(app, "fuzz-console", channel="web")
    await citizen.says("/anonym")
    await citizen.says("Hvordan søker jeg om støtte til fritidsaktiviteter?")
    [item] = app.queue.open_cases("kari")
    async with web_client(app) as client:
        harness = ConsoleHarness(client, item.reference)
        await harness.sign_in()
        return await run_all(report, app, console_cases(harness))


# The JSON-lines channel: one process fed every bad line, a good one after each.


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The command line's environment: this database, no NLU server, the given extras."""
    return {
        **os.environ,
        "INNGANG_DATABASE_URL": database_url,
        "INNGANG_NLU_URL": "http://127.0.0.1:9",
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "fuzz-secret",
        **extra,
    }


def jsonl_lines() -> list[tuple[str, bytes]]:
    lines: list[tuple[str, bytes]] = []
    for c in TEXTS:
        lines.append((f"text: {c.name}", json_bytes({"user": "fuzz", "text": c.value})))
        lines.append((f"user: {c.name}", json_bytes({"user": c.value, "text": "hei"})))
    for c in RAW_BYTES:
        line = c.value.replace(b"\n", b"").replace(b"\r", b"")
        lines.append((f"line: {c.name}", line))
        lines.append((f"text: {c.name}", b'{"user": "fuzz", "text": "' + line + b'"}'))
    for c in MALFORMED_JSON:
        lines.append((f"line: {c.name}", c.value.replace(b'"text"', b'"user": "fuzz", "text"')))
    for name in ("user", "text"):
        for c in WRONG_TYPES:
            lines.append(
                (
                    f"{name} of type {c.name}",
                    json_bytes({"user": "fuzz", "text": "hei", name: c.value}),
                )
            )
    lines.append(
        ("line of 1,000,000 characters", json_bytes({"user": "fuzz", "text": "x" * 10**6}))
    )
    return lines


def fuzz_jsonl(database_url: str) -> Report:
    """One process, every bad line followed by a good one; each non-blank line gets exactly
    one line out, the good ones a reply, and the process ends normally at EOF."""
    report = Report("jsonl")
    good = json_bytes({"user": "fuzz-good", "text": "hei"})
    cases = jsonl_lines()
    stdin = b"".join(line + b"\n" + good + b"\n" for _, line in cases)
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--jsonl", "--offline"],
        input=stdin,
        capture_output=True,
        env=cli_env(database_url, INNGANG_DATA_KEY=new_key()),
        cwd=PROJECT_ROOT,
        timeout=600,
        check=False,
    )
    outputs = [json.loads(line) for line in completed.stdout.splitlines()]
    outputs = [o for o in outputs if "from" not in o]  # messages that waited for a user
    stderr = completed.stderr.decode("utf-8", "replace")
    position = 0
    for name, line in cases:
        report.tried.append(name)
        if not line.strip():
            answers = outputs[position : position + 1]
        else:
            answers = outputs[position : position + 2]
        expected = 1 if not line.strip() else 2
        if len(answers) < expected:
            report.crash(name, f"process died (exit {completed.returncode})")
            continue
        position += expected
        bad, after = (None, answers[0]) if expected == 1 else answers
        if after.get("user") != "fuzz-good" or not after.get("replies"):
            report.crash(name, "next good line not answered")
        elif bad is not None and not bad.get("replies"):
            report.crash(name, "no reply")
        elif bad is not None and any("noe gikk galt" in r for r in bad["replies"]):
            report.crash(name, "answered with the safe reply")
    if completed.returncode != 0:
        report.crash("process exit", f"exit {completed.returncode}")
    if TRACEBACK.search(stderr):
        report.crash("stderr", "traceback on stderr: " + stderr.strip().splitlines()[-1][:120])
    return report


# Command-line arguments.


def surrogate_arg(raw: bytes) -> str:
    """An argument as Python sees invalid UTF-8 on the command line."""
    return raw.decode("utf-8", "surrogateescape")


CLI_ARGS: list[BadInput] = [
    BadInput("no arguments", []),
    BadInput("unknown command", ["frobnicate"]),
    BadInput("missing reference", ["queue", "show"]),
    BadInput("missing reply text", ["queue", "reply", "ABC"]),
    BadInput("missing --outcome", ["queue", "close", "ABC"]),
    BadInput("unknown duty state", ["duty", "maybe"]),
    BadInput("invalid UTF-8 reference", ["queue", "show", surrogate_arg(b"X\xff\xfe")]),
    BadInput(
        "invalid UTF-8 reply text", ["queue", "reply", "X", surrogate_arg(b"hei \xed\xa0\x80")]
    ),
    BadInput("invalid UTF-8 staff id", ["staff", "token", surrogate_arg(b"kari\xff")]),
    BadInput("invalid UTF-8 --as", ["duty", "status", "--as", surrogate_arg(b"\xc0\xaf")]),
    BadInput("invalid UTF-8 --to", ["queue", "transfer", "X", "--to", surrogate_arg(b"\xff")]),
    BadInput("control characters in reference", ["queue", "show", "\x1b[2J\x07\x7f"]),
    BadInput("control characters in staff id", ["staff", "token", "\x1b]0;x\x07kari"]),
    BadInput("bidi override in staff id", ["staff", "token", "\u202eirak"]),
    BadInput("100,000-character reference", ["queue", "show", "A" * 100_000]),
    BadInput("path trick as reference", ["queue", "show", "../../etc/passwd"]),
    BadInput("SQL as reference", ["queue", "claim", "' OR 1=1 --"]),
    BadInput("empty reference", ["queue", "claim", ""]),
    BadInput("huge --days", ["stats", "--days", "9" * 30]),
    BadInput("--days beyond the calendar", ["stats", "--days", "99999999999"]),
    BadInput("negative --days", ["stats", "--days", "-5"]),
    BadInput("non-ASCII digits for --days", ["stats", "--days", "٣٠"]),
    BadInput("superscript --days", ["stats", "--days", "²"]),
    BadInput("--days not a number", ["stats", "--days", "1e9"]),
    BadInput("huge --batch", ["keys", "rotate", "--batch", "9" * 30]),
    BadInput("zero --batch", ["keys", "rotate", "--batch", "0"]),
    BadInput("huge --folds", ["nlu", "crossval", "--folds", "9" * 5000]),
    BadInput("unknown staff id", ["staff", "token", "nobody"]),
    BadInput("missing config file", ["--config", "/nonexistent/config.yml", "check-config"]),
    BadInput("config is a directory", ["--config", "/", "check-config"]),
    BadInput("config is not YAML", ["--config", "/dev/null", "check-config"]),
    BadInput(
        "invalid UTF-8 config path", ["--config", surrogate_arg(b"/tmp/\xff.yml"), "check-config"]
    ),
]
"""Arguments; staff actions run with a valid personal token for kari (INNGANG_STAFF_TOKEN)."""

NEEDS_NO_DATABASE = {
    "missing config file",
    "config is a directory",
    "config is not YAML",
    "invalid UTF-8 config path",
    "no arguments",
    "unknown command",
    "missing reference",
    "missing reply text",
    "missing --outcome",
    "unknown duty state",
    "non-ASCII digits for --days",
    "superscript --days",
    "--days not a number",
    "huge --folds",
    "bidi override in staff id",
}


async def _run_cli(args: list[str], env: dict[str, str]) -> tuple[int | None, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=PROJECT_ROOT,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        return None, "timed out", ""
    return process.returncode, stderr.decode("utf-8", "replace"), stdout.decode("utf-8", "replace")


async def fuzz_cli(database_url: str, *, only_database: bool = False, parallel: int = 3) -> Report:
    """Each argument list as its own `python -m bot.cli` process: a clear message on stderr
    and a non-zero exit, never a traceback (a process that dies by a signal is a crash)."""
    report = Report("CLI arguments")
    env = cli_env(database_url, INNGANG_DATA_KEY=new_key())  # the key file is left alone
    token = subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", "token", "kari"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        timeout=120,
    ).stdout.strip()
    env["INNGANG_STAFF_TOKEN"] = token
    cases = [c for c in CLI_ARGS if not (only_database and c.name in NEEDS_NO_DATABASE)]
    slots = asyncio.Semaphore(parallel)

    async def one(case: BadInput) -> None:
        async with slots:
            code, stderr, stdout = await _run_cli(case.value, env)
        report.tried.append(case.name)
        if code is None or code < 0:
            report.crash(case.name, f"process died ({stderr or code})")
        elif TRACEBACK.search(stderr):
            report.crash(case.name, "traceback: " + stderr.strip().splitlines()[-1][:120])
        elif code != 0 and not (stderr.strip() or stdout.strip()):
            report.crash(case.name, f"exit {code} without a message")

    await asyncio.gather(*(one(c) for c in cases))
    return report
