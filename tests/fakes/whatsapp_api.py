"""A local fake of the WhatsApp Cloud API, served over real HTTP on a free loopback port.

The outbound side: ``POST /{version}/{phone_number_id}/messages`` with a bearer token, checked
against the real limits (a text body of 4096, reply buttons: at most 3, titles of 20, a body of
1024; lists: at most 10 rows, titles of 24, descriptions of 72), recorded in ``sent``; it can answer the next sends
with a status (a 502), and it keeps WhatsApp's 24-hour customer-service window: a free-form
message to someone who last wrote more than 24 hours ago (by the fake's clock) is refused with
131047 in the answer (``window_errors="sync"``) or taken and then reported failed in a status
(``"async"``); templates always go.

The inbound side: it plays the citizen's phone and Meta's webhooks, posting signed webhooks
(``X-Hub-Signature-256``) to the application through ``app`` (any httpx client): text, a tapped
reply button or list row, media, a retry of the same webhook; and the delivery statuses (sent,
delivered, failed) of what it took, when the test asks (``post_statuses``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import free_port, serving

DAY_S = 24 * 3600


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "OAuthException", "code": code}},
        status_code=status,
    )


@dataclass
class FakeWhatsApp:
    """The fake's state: what was sent, who wrote when, failures to inject."""

    token: str = "EAAG-test-token"
    app_secret: str = "test-app-secret"
    phone_number_id: str = "1098765432"
    version: str = "v21.0"
    clock: Callable[[], float] = time.time
    window_errors: str = "sync"
    app: httpx.AsyncClient | None = None
    """Where webhooks go: a client of the application (base URL set)."""
    webhook_path: str = "/whatsapp/webhook"
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(error code, body) of every message refused."""
    failures: list[int] = field(default_factory=list)
    """HTTP statuses to answer the next message sends with, one each (e.g. [502])."""
    last_inbound: dict[str, float] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    """Statuses not yet posted to the application."""
    webhooks: dict[str, bytes] = field(default_factory=dict)
    """wamid -> the webhook body that brought it, for retries."""
    last_response: httpx.Response | None = None
    media: dict[str, bytes] = field(default_factory=dict)
    """Media id -> the bytes of an image or a document a citizen sent (served with the
    token: GET /<version>/<media id> gives its URL, the URL its bytes)."""
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the citizen's side -----------------------------------------------------------

    def _wamid(self, number: str) -> str:
        """Like Meta's: the same long prefix for every message from one number."""
        raw = f"\x15\x02\x00\x11\x18\x12{number}\x15\x02\x00\x12\x18\x14{next(self._ids):020d}"
        return "wamid." + base64.b64encode(raw.encode()).decode()

    def webhook(self, value: dict[str, Any]) -> dict[str, Any]:
        """A webhook body around one change value for our number."""
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "4755000000",
                                    "phone_number_id": self.phone_number_id,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (secret or self.app_secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    async def post(
        self, body: bytes, *, secret: str | None = None, signed: bool = True
    ) -> httpx.Response:
        """POST a raw webhook body to the application, signed (or not, or wrongly)."""
        assert self.app is not None, "set fake.app to a client of the application"
        headers = {"content-type": "application/json"}
        if signed:
            headers["X-Hub-Signature-256"] = self.sign(body, secret)
        return await self.app.post(self.webhook_path, content=body, headers=headers)

    async def user_sends(
        self,
        number: str,
        kind: str,
        content: dict[str, Any],
        *,
        secret: str | None = None,
        signed: bool = True,
    ) -> str:
        """The citizen sends a message of any type; returns its wamid."""
        wamid = self._wamid(number)
        now = self.clock()
        message = {
            "from": number,
            "id": wamid,
            "timestamp": str(int(now)),
            "type": kind,
            kind: content,
        }
        contact = {"profile": {"name": "Forelder"}, "wa_id": number}
        body = json.dumps(
            self.webhook({"contacts": [contact], "messages": [message]}), ensure_ascii=False
        ).encode()
        before = self.last_inbound.get(number)
        self.last_inbound[number] = now  # the window opens as the message reaches WhatsApp
        response = await self.post(body, secret=secret, signed=signed)
        self.webhooks[wamid] = body
        if response.status_code != 200 and before is None:  # forged: WhatsApp never had it
            del self.last_inbound[number]
        elif response.status_code != 200 and before is not None:
            self.last_inbound[number] = before
        self.last_response = response
        return wamid

    async def user_says(self, number: str, text: str, **kwargs: Any) -> str:
        return await self.user_sends(number, "text", {"body": text}, **kwargs)

    async def user_taps(self, number: str, payload: str, title: str = "") -> str:
        """The citizen taps a reply button (``button_reply``) of the last interactive message
        (a list row when it was a list)."""
        kind = "button_reply"
        for message in reversed(self.to(number)):
            if message["type"] == "interactive":
                kind = "list_reply" if message["interactive"]["type"] == "list" else kind
                break
        return await self.user_sends(
            number, "interactive", {"type": kind, kind: {"id": payload, "title": title}}
        )

    async def retry(self, wamid: str) -> httpx.Response:
        """Meta posts the same webhook again (it did not see our 200 in time)."""
        return await self.post(self.webhooks[wamid])

    async def post_statuses(self) -> list[httpx.Response]:
        """Post the delivery statuses collected so far, one webhook each."""
        statuses, self.statuses = self.statuses, []
        responses = []
        for status in statuses:
            body = json.dumps(self.webhook({"statuses": [status]})).encode()
            responses.append(await self.post(body))
        return responses

    # -- what the application sent ----------------------------------------------------

    def to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["to"] == number]

    def texts_to(self, number: str) -> list[str]:
        """What the citizen reads: text bodies and interactive bodies, in order."""
        texts = []
        for message in self.to(number):
            if message["type"] == "text":
                texts.append(message["text"]["body"])
            elif message["type"] == "interactive":
                texts.append(message["interactive"]["body"]["text"])
            else:
                texts.append(f"<template {message['template']['name']}>")
        return texts

    def fail_sends(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` message sends with ``status`` (502, 500, ...)."""
        self.failures.extend([status] * times)

    # -- the Cloud API ----------------------------------------------------------------

    def _status(self, wamid: str, message: dict[str, Any], status: str, **extra: Any) -> None:
        entry = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(self.clock())),
            "recipient_id": message["to"],
            **extra,
        }
        if "biz_opaque_callback_data" in message:
            entry["biz_opaque_callback_data"] = message["biz_opaque_callback_data"]
        self.statuses.append(entry)

    def _invalid(self, message: dict[str, Any]) -> str | None:
        """Why the Cloud API would refuse this message (None: it would take it)."""
        kind = message.get("type")
        if message.get("messaging_product") != "whatsapp" or not message.get("to"):
            return "messaging_product and to are required"
        if kind == "text":
            body = message["text"]["body"]
            return None if 0 < len(body) <= 4096 else "text body length"
        if kind == "template":
            return None if message["template"].get("name") else "template name"
        if kind != "interactive":
            return f"unsupported type {kind}"
        interactive = message["interactive"]
        body = interactive["body"]["text"]
        action = interactive["action"]
        if interactive["type"] == "button":
            buttons = action["buttons"]
            titles = [b["reply"]["title"] for b in buttons]
            if not 0 < len(body) <= 1024 or not 1 <= len(buttons) <= 3:
                return "button body or count"
            if any(not 0 < len(t) <= 20 for t in titles) or len(set(titles)) < len(titles):
                return "button titles"
            return None
        if interactive["type"] == "list":
            rows = [row for section in action["sections"] for row in section["rows"]]
            if not 0 < len(body) <= 4096 or not 1 <= len(rows) <= 10:
                return "list body or rows"
            if not 0 < len(action["button"]) <= 20:
                return "list button"
            if any(not 0 < len(r["title"]) <= 24 or len(r["id"]) > 200 for r in rows):
                return "list rows"
            if any(len(r.get("description", "")) > 72 for r in rows):
                return "list row descriptions"
            return None
        return "interactive type"

    def api(self) -> Starlette:
        async def messages(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _error(401, 190, "Invalid OAuth access token.")
            if request.path_params["number_id"] != self.phone_number_id:
                return _error(400, 100, "Unsupported post request.")
            message = await request.json()
            if self.failures:
                status = self.failures.pop(0)
                return _error(status, 131000, "Something went wrong")
            problem = self._invalid(message)
            if problem is not None:
                self.refused.append((131009, message))
                return _error(400, 131009, f"(#131009) Parameter value is not valid: {problem}")
            number = message["to"]
            outside = self.clock() - self.last_inbound.get(number, float("-inf")) > DAY_S
            wamid = self._wamid(number)
            if outside and message["type"] != "template":
                if self.window_errors == "sync":
                    self.refused.append((131047, message))
                    return _error(400, 131047, "(#131047) Re-engagement message")
                error = {"code": 131047, "title": "Re-engagement message"}
                self._status(wamid, message, "failed", errors=[error])
                return self._accepted(number, wamid)
            self.sent.append(message)
            self._status(wamid, message, "sent")
            self._status(wamid, message, "delivered")
            return self._accepted(number, wamid)

        async def media_url(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _error(401, 190, "Invalid OAuth access token.")
            media_id = request.path_params["media_id"]
            if media_id not in self.media:
                return _error(400, 100, "Unsupported get request.")
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.base_url}/download/{media_id}",
                    "file_size": len(self.media[media_id]),
                    "id": media_id,
                }
            )

        async def download(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return Response(status_code=401)
            return Response(self.media.get(request.path_params["media_id"], b""))

        return Starlette(
            routes=[
                Route("/{version}/{number_id}/messages", messages, methods=["POST"]),
                Route("/download/{media_id}", download),
                Route("/{version}/{media_id}", media_url),
            ]
        )

    def _accepted(self, number: str, wamid: str) -> JSONResponse:
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": number, "wa_id": number}],
                "messages": [{"id": wamid}],
            }
        )


@contextlib.asynccontextmanager
async def running(fake: FakeWhatsApp) -> AsyncIterator[FakeWhatsApp]:
    """Serve the fake Cloud API on a free loopback port for the duration of the block."""
    fake.port = free_port()
    async with serving(fake.api(), fake.port):
        yield fake
