"""A local fake of the Telegram Bot API, enough for python-telegram-bot: getMe, getUpdates
(with offsets: an update below an offset once asked for is confirmed and never comes again,
unless the test replays it), sendMessage, answerCallbackQuery, setWebhook, deleteWebhook, getFile and the file download
(``/file/bot<token>/<path>``, the bytes a test put in ``files``); it
can answer 429 with retry_after, 403 for a blocked chat and any status (a 502) for the next
sends. Served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import free_port, serving

BOT = {
    "id": 777,
    "is_bot": True,
    "first_name": "Inngang",
    "username": "inngang_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class FakeTelegram:
    """State of the fake: queued updates, sent messages, failures to inject."""

    token: str = "123456:TEST-token"
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    answered_callbacks: list[str] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    menus: dict[str, Any] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)
    rate_limit_next: int = 0
    rate_limit_chat: int | None = None
    """Only this chat gets the 429s of ``rate_limit_next`` (None: any chat)."""
    retry_after: int = 1
    failures: list[int] = field(default_factory=list)
    """HTTP statuses to answer the next sendMessage calls with, one each (e.g. [502])."""
    replays: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    """How many replayed updates getUpdates handed out."""
    confirmed: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    """File id -> the bytes getFile and the download serve (a photo, a document)."""
    downloads: int = 0
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def user_says(
        self,
        user_id: int,
        text: str,
        language: str = "nb",
        *,
        chat_type: str = "private",
        update_id: int | None = None,
    ) -> int:
        """Queue a text message update; returns its update_id."""
        uid = update_id if update_id is not None else next(self._update_ids)
        self.updates.append(
            {"update_id": uid, "message": self._message(user_id, text, language, chat_type)}
        )
        return uid

    def user_sends(
        self, user_id: int, kind: str, payload: Any, language: str = "nb", caption: str = ""
    ) -> int:
        """Queue a non-text message (voice, photo, sticker, location, ...)."""
        uid = next(self._update_ids)
        message = self._message(user_id, None, language, "private")
        message[kind] = payload
        if caption:
            message["caption"] = caption
        self.updates.append({"update_id": uid, "message": message})
        return uid

    def user_edits(self, user_id: int, text: str, caption_of: str | None = None) -> int:
        """Queue an edited message; with ``caption_of`` ("photo"), an edited caption."""
        uid = next(self._update_ids)
        message = self._message(user_id, None if caption_of else text, "nb", "private")
        if caption_of:
            message[caption_of] = [{"file_id": "p", "file_unique_id": "u", "width": 9, "height": 9}]
            message["caption"] = text
        message["edit_date"] = int(time.time())
        self.updates.append({"update_id": uid, "edited_message": message})
        return uid

    def user_presses(self, user_id: int, data: str, language: str = "nb") -> int:
        uid = next(self._update_ids)
        self.updates.append(
            {
                "update_id": uid,
                "callback_query": {
                    "id": f"cb{uid}",
                    "from": self._user(user_id, language),
                    "chat_instance": "x",
                    "data": data,
                    "message": self._message(user_id, "…", language, "private", bot=True),
                },
            }
        )
        return uid

    def _user(self, user_id: int, language: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Citizen", "language_code": language}

    def _message(
        self, user_id: int, text: str | None, language: str, chat_type: str, bot: bool = False
    ) -> dict[str, Any]:
        chat_id = user_id if chat_type == "private" else -100 - user_id
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": BOT if bot else self._user(user_id, language),
        }
        if text is not None:
            message["text"] = text
        return message

    def texts_to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if m["chat_id"] == chat_id]

    def fail_sends(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` sendMessage calls with ``status`` (502, 500, ...)."""
        self.failures.extend([status] * times)

    def replay(self, update_id: int) -> None:
        """Hand out an update again on the next getUpdates, whatever the offset (Telegram
        re-delivering after a lost confirmation, a restart that lost the offset)."""
        [update] = [u for u in self.updates if u["update_id"] == update_id]
        self.replays.append(update)

    def app(self) -> Starlette:
        async def method(request: Request) -> JSONResponse:
            name = request.path_params["method"]
            if request.path_params["token"] != self.token:
                return JSONResponse(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
                )
            form: dict[str, Any] = dict(await request.form()) if request.method == "POST" else {}
            if request.headers.get("content-type", "").startswith("application/json"):
                form = await request.json()
            self.calls.append(name)
            return await self._answer(name, form)

        async def download(request: Request) -> Response:
            if request.path_params["token"] != self.token:
                return Response(status_code=401)
            file_id = request.path_params["path"].removeprefix("files/")
            if file_id not in self.files:
                return Response(status_code=404)
            self.downloads += 1
            return Response(self.files[file_id], media_type="application/octet-stream")

        return Starlette(
            routes=[
                Route("/bot{token}/{method}", method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", download),
            ]
        )

    async def _answer(self, name: str, form: dict[str, Any]) -> JSONResponse:
        ok = lambda result: JSONResponse({"ok": True, "result": result})  # noqa: E731
        if name == "getMe":
            return ok(BOT)
        if name in ("deleteWebhook", "setWebhook"):
            if name == "setWebhook":
                self.webhook = form
            return ok(True)
        if name == "setMyCommands":
            import json as _json

            commands = form.get("commands")
            self.menus[str(form.get("language_code") or "")] = (
                _json.loads(commands) if isinstance(commands, str) else commands
            )
            return ok(True)
        if name == "getUpdates":
            self.confirmed = max(self.confirmed, int(form.get("offset") or 0))
            fresh = [u for u in self.updates if u["update_id"] >= self.confirmed][:100]
            replays, self.replays = self.replays, []
            self.replayed += len(replays)
            if not fresh and not replays:
                await asyncio.sleep(0.05)
            return ok(sorted([*replays, *fresh], key=lambda u: int(u["update_id"])))
        if name == "getFile":
            file_id = str(form.get("file_id"))
            if file_id not in self.files:
                return JSONResponse(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                    status_code=400,
                )
            return ok(
                {
                    "file_id": file_id,
                    "file_unique_id": f"u-{file_id}",
                    "file_size": len(self.files[file_id]),
                    "file_path": f"files/{file_id}",
                }
            )
        if name == "answerCallbackQuery":
            self.answered_callbacks.append(str(form.get("callback_query_id")))
            return ok(True)
        if name == "sendMessage":
            chat_id = int(form["chat_id"])
            if self.failures:
                status = self.failures.pop(0)
                return JSONResponse(
                    {"ok": False, "error_code": status, "description": "Bad Gateway"},
                    status_code=status,
                )
            if self.rate_limit_next > 0 and self.rate_limit_chat in (None, chat_id):
                self.rate_limit_next -= 1
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {self.retry_after}",
                        "parameters": {"retry_after": self.retry_after},
                    },
                    status_code=429,
                )
            if chat_id in self.blocked_chats:
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    status_code=403,
                )
            import json as _json

            markup = form.get("reply_markup")
            if isinstance(markup, str):
                markup = _json.loads(markup)
            record = {
                "chat_id": chat_id,
                "text": form["text"],
                "reply_markup": markup,
                "parse_mode": form.get("parse_mode"),
                "at": time.monotonic(),
            }
            self.sent.append(record)
            return ok(
                {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": form["text"],
                    "from": BOT,
                }
            )
        return JSONResponse(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404
        )


@contextlib.asynccontextmanager
async def running(fake: FakeTelegram) -> AsyncIterator[FakeTelegram]:
    """Serve the fake on a free loopback port for the duration of the block."""
    fake.port = free_port()
    async with serving(fake.app(), fake.port):
        yield fake


async def eventually(condition: Any, timeout: float = 10.0) -> None:
    """Wait until condition() is true (polling), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
