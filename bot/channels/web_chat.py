"""The web chat channel: an anonymous chat page, its JSON API, and the embeddable snippet.

The browser keeps one random token (no name, no number); the server stores only its keyed
hash. The page polls for los replies and read receipts, and resends what did not get
through, so a reload or a lost connection loses nothing.
"""

from __future__ import annotations

import html
import json
import secrets
from pathlib import Path

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.i18n import RTL_LANGUAGES, Catalogs
from bot.router import Router
from bot.store.models import Conversation, Message
from flows.types import N_, Inbound, Outbound

CHANNEL = "web"
STATIC = Path(__file__).resolve().parents[1] / "static"
MAX_BODY = 512_000
"""Room for a 100,000-character message in any script: every character is crisis-checked."""
UI_KEYS = {
    "title": N_("web.title"),
    "intro": N_("web.intro"),
    "log_label": N_("web.log_label"),
    "input_label": N_("web.input_label"),
    "placeholder": N_("web.placeholder"),
    "send": N_("web.send"),
    "emergency": N_("web.emergency"),
    "offline": N_("web.offline"),
    "sender_me": N_("web.sender_me"),
    "sender_bot": N_("web.sender_bot"),
    "sender_los": N_("web.sender_los"),
}


def _valid_token(value: object) -> str | None:
    if isinstance(value, str) and 20 <= len(value) <= 128 and value.isascii():
        return value
    return None


def as_json(message: Outbound) -> dict[str, object]:
    """A message as the page renders it."""
    return {
        "text": message.text,
        "sender": message.sender,
        "language": message.language,
        "receipt": message.receipt,
        "buttons": [{"label": b.label, "payload": b.payload} for b in message.buttons],
    }


class WebChat:
    """Routes for the chat page and its API."""

    def __init__(
        self,
        router: Router,
        catalogs: Catalogs,
        languages: tuple[str, ...],
        default: str,
        municipality: str,
        numbers: dict[str, str],
    ) -> None:
        self.router = router
        self.catalogs = catalogs
        self.languages = languages
        self.default = default
        self.municipality = municipality
        self.numbers = numbers
        self.template = (STATIC / "chat.html").read_text(encoding="utf-8")

    def ui_texts(self, language: str) -> dict[str, str]:
        """The page's own words in one language."""
        params = {"municipality": self.municipality, **self.numbers}
        return {name: self.catalogs(key, language, **params) for name, key in UI_KEYS.items()}

    async def page(self, request: Request) -> Response:
        """The chat page, in ?lang= or the default language; every UI string from the catalogs."""
        lang = request.query_params.get("lang", self.default)
        lang = lang if lang in self.languages else self.default
        texts = self.ui_texts(lang)
        everything: dict[str, object] = {code: self.ui_texts(code) for code in self.languages}
        everything["_default"] = lang
        body = self.template.replace(
            "{{ui_json}}", json.dumps(everything, ensure_ascii=False).replace("</", "<\\/")
        )
        for name, value in {
            **texts,
            "lang": lang,
            "dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
        }.items():
            body = body.replace("{{" + name + "}}", html.escape(value))
        return HTMLResponse(
            body, headers={"Content-Security-Policy": "default-src 'self'; frame-ancestors *"}
        )

    async def chat(self, request: Request) -> Response:
        """POST {token?, text | button, id?}: handle one message, return the replies."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "too_large"}, status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "invalid_json"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"error": "invalid_json"}, status_code=400)
        token = _valid_token(data.get("token")) or secrets.token_urlsafe(24)
        text, button, message_id = data.get("text"), data.get("button"), data.get("id")
        handled = await self.router.handle(
            Inbound(
                CHANNEL,
                token,
                text if isinstance(text, str) else "",
                request.headers.get("accept-language", "")[:2] or None,
                button if isinstance(button, str) else None,
            ),
            external_id=str(message_id)[:64] if isinstance(message_id, str) else None,
        )
        return JSONResponse(
            {
                "token": token,
                "language": handled.language,
                "replies": [as_json(r) for r in handled.replies],
            }
        )

    async def poll(self, request: Request) -> Response:
        """GET ?token=: messages that arrived (los replies, read receipts, feedback question)."""
        token = _valid_token(request.query_params.get("token"))
        if token is None:
            return JSONResponse({"messages": []})
        pending = self.router.take_pending(CHANNEL, token)
        return JSONResponse({"messages": [as_json(m) for m in pending]})

    async def history(self, request: Request) -> Response:
        """GET ?token=: the conversation so far, after a reload."""
        token = _valid_token(request.query_params.get("token"))
        if token is None:
            return JSONResponse({"messages": []})
        address = self.router.address(CHANNEL, token)
        with self.router.store.sessions() as session:
            conversation = session.scalars(
                select(Conversation).where(
                    Conversation.channel == CHANNEL, Conversation.address_hash == address
                )
            ).first()
            if conversation is None:
                return JSONResponse({"messages": []})
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id.desc())
                .limit(100)
            ).all()
            messages = [
                {
                    "text": m.text,
                    "language": m.language or conversation.language,
                    "sender": "me" if m.direction == "in" else m.sender,
                    "buttons": [],
                    "receipt": False,
                }
                for m in reversed(rows)
                if m.text
            ]
        return JSONResponse({"messages": messages})

    def routes(self) -> list[BaseRoute]:
        """Everything the web chat serves; no third-party CDN."""
        return [
            Route("/", self.page),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/poll", self.poll),
            Route("/api/history", self.history),
            Route("/embed.js", self.embed),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]

    async def embed(self, _: Request) -> Response:
        """The one-script-tag snippet for the municipality's web site."""
        return Response(
            (STATIC / "embed.js").read_text(encoding="utf-8"), media_type="application/javascript"
        )
