"""The web chat channel: an anonymous chat page, its JSON API, and the embeddable snippet.

The browser keeps one random token (no name, no number); the server stores only its keyed
hash. The page polls for los replies and read receipts, and resends what did not get
through, so a reload or a lost connection loses nothing.

The API, all JSON, with the token in the ``X-Chat-Token`` header (never in a URL, where
proxies and logs would keep it; a ``?token=`` is refused with 400 ``token_in_query``):

* ``POST /api/chat`` ``{text | button, id?}`` (the token may also be ``"token"`` in the
  body): without a token the server issues one and returns it with the answer as
  ``{"token", "language", "replies"}``;
* ``POST /api/poll``: the messages that arrived since (los replies, read receipts); it
  takes them off the waiting list, so it is a POST;
* ``GET /api/history``: the conversation so far, after a reload (changes nothing).

Only tokens this server issued are accepted: a token is a random nonce and an HMAC of it
under a key derived from the application secret, so nobody can pick a token (a guessed or
planted one would put a visitor in a conversation someone else can read). Any other gets
401 ``{"error": "invalid_token"}`` and the page asks for a new one. Every API answer is
``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.i18n import RTL_LANGUAGES, Catalogs
from bot.router import Router
from bot.text_input import clean_field, load_json
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


TOKEN_HEADER = "x-chat-token"
NO_STORE = {"Cache-Control": "no-store"}
_TOKEN_PURPOSE = b"inngang web chat token v1"


class ChatTokens:
    """Tokens only this server can make: ``nonce.mac``, the MAC an HMAC-SHA256 of the nonce
    under a key derived (by HMAC) from the application secret for this purpose only."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, _TOKEN_PURPOSE, hashlib.sha256).digest()

    def _mac(self, nonce: str) -> str:
        digest = hmac.new(self._key, nonce.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def issue(self) -> str:
        """A new token: a nonce of 24 random bytes, and its MAC."""
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._mac(nonce)}"

    def valid(self, value: object) -> str | None:
        """The token if this server issued it, else None."""
        if not isinstance(value, str) or len(value) > 128 or not value.isascii():
            return None
        nonce, dot, mac = value.partition(".")
        if not dot or len(nonce) < 32 or not hmac.compare_digest(mac, self._mac(nonce)):
            return None
        return value


def _refused(error: str, status: int) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=NO_STORE)


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
        secret: bytes,
    ) -> None:
        self.router = router
        self.tokens = ChatTokens(secret)
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

    def _token(self, request: Request, given: object = None) -> str | JSONResponse:
        """The request's token (header, else ``given`` from the body), or the refusal."""
        if "token" in request.query_params:
            return _refused("token_in_query", 400)
        value = request.headers.get(TOKEN_HEADER) or given
        if not value:
            return _refused("missing_token", 401)
        token = self.tokens.valid(value)
        return token if token is not None else _refused("invalid_token", 401)

    async def chat(self, request: Request) -> Response:
        """POST {text | button, id?} (token in X-Chat-Token, or "token" in the body, or none
        for a new visitor): handle one message, return the replies and the token."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return _refused("too_large", 413)
        try:
            data = load_json(body)
        except ValueError:
            return _refused("invalid_json", 400)
        if not isinstance(data, dict):
            return _refused("invalid_json", 400)
        given = data.get("token")
        if "token" in request.query_params or request.headers.get(TOKEN_HEADER) or given:
            checked = self._token(request, given)
            if isinstance(checked, JSONResponse):
                return checked
            token = checked
        else:
            token = self.tokens.issue()  # first contact: the server makes the token
        given_text = data.get("text")
        text = given_text if isinstance(given_text, str) else ""
        button = clean_field(data["button"]) if isinstance(data.get("button"), str) else None
        message_id = clean_field(data["id"]) if isinstance(data.get("id"), str) else None
        handled = await self.router.handle(
            Inbound(
                CHANNEL,
                token,
                text,
                clean_field(request.headers.get("accept-language", "")[:2]),
                button,
            ),
            external_id=message_id,
        )
        return JSONResponse(
            {
                "token": token,
                "language": handled.language,
                "replies": [as_json(r) for r in handled.replies],
            },
            headers=NO_STORE,
        )

    async def poll(self, request: Request) -> Response:
        """POST (token in X-Chat-Token): messages that arrived (los replies, read receipts,
        the feedback question). Taking them marks them delivered: hence not a GET."""
        token = self._token(request)
        if isinstance(token, JSONResponse):
            return token
        pending = await self.router.take_pending(CHANNEL, token)
        return JSONResponse({"messages": [as_json(m) for m in pending]}, headers=NO_STORE)

    async def history(self, request: Request) -> Response:
        """GET (token in X-Chat-Token): the conversation so far, after a reload. Reads only."""
        token = self._token(request)
        if isinstance(token, JSONResponse):
            return token
        address = self.router.address(CHANNEL, token)
        shown = await self.router.store.run(self.router.store.history, CHANNEL, address, 100)
        messages = [
            {
                "text": line.text,
                "language": line.language,
                "sender": "me" if line.mine else line.sender,
                "buttons": [],
                "receipt": False,
            }
            for line in shown
        ]
        return JSONResponse({"messages": messages}, headers=NO_STORE)

    def routes(self) -> list[BaseRoute]:
        """Everything the web chat serves; no third-party CDN."""
        return [
            Route("/", self.page),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/poll", self.poll, methods=["POST"]),
            Route("/api/history", self.history),
            Route("/embed.js", self.embed),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]

    async def embed(self, _: Request) -> Response:
        """The one-script-tag snippet for the municipality's web site."""
        return Response(
            (STATIC / "embed.js").read_text(encoding="utf-8"), media_type="application/javascript"
        )
