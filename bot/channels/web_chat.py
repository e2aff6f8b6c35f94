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
* ``POST /api/upload`` (multipart: ``file``, and ``text``, ``id``, ``language``; the token
  in ``X-Chat-Token``, required): a photo or PDF for the open case, read at most up to the
  configured size (``bot.attachments`` decides its type from its bytes); answered like
  ``/api/chat``;
* ``GET /api/history``: the conversation so far, after a reload (changes nothing): each
  message with its time, its choices (``live`` on the newest only), the choice pressed, the
  read receipts delivered.

Every bot or los message comes with ``parts``: its text cut into plain runs and the
municipality's facts (phone numbers, e-mail and web addresses from config.yml) with their
``href`` (``tel:``, ``mailto:``, ``https:``), which the page shows as links; the citizen's own
words are never made links. A crisis answer says ``"crisis": true``.

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
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message

from bot.areas import DEFAULT_AREA
from bot.attachments import Upload, check, too_big
from bot.channels.links import LinkFacts
from bot.i18n import RTL_LANGUAGES, Catalogs
from bot.router import Handled, Router
from bot.settings import AttachmentSettings
from bot.store.repo import HistoryLine
from bot.text_input import clean_field, load_json
from flows.answers import LANGUAGE_NAME
from flows.front_door import LANGUAGE_PREFIX
from flows.types import N_, Inbound, Outbound

CHANNEL = "web"
STATIC = Path(__file__).resolve().parents[1] / "static"
MAX_BODY = 512_000
"""Room for a 100,000-character message in any script: every character is crisis-checked."""
FORM_ROOM = 64_000
"""An upload's room beyond the file itself: the multipart headers, a caption, the id."""
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
    "language": N_("web.language"),
    "welcome": N_("web.welcome"),
    "start_services": N_("web.start_services"),
    "start_person": N_("web.start_person"),
    "start_anonymous": N_("web.start_anonymous"),
    "typing": N_("web.typing"),
    "los_typing": N_("web.los_typing"),
    "crisis": N_("web.crisis"),
    "attach": N_("web.attach"),
    "attach_sent": N_("web.attach_sent"),
}
EMBED_KEYS = {
    "open": N_("web.embed_open"),
    "close": N_("web.embed_close"),
    "title": N_("web.title"),
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


async def _form(request: Request, body: bytes) -> FormData | None:
    """The multipart form in a body already read (and size-checked); None if malformed."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=1, max_fields=4)
    except (MultiPartException, HTTPException, ValueError):
        return None


WEB_LABELS = {"confirm:send": N_("web.confirm_send")}
"""Choices the page names in its own words: the summary's "Send" would stand right above
the input's own Send, so here it says what it sends."""


def as_json(
    message: Outbound,
    links: LinkFacts,
    at: datetime,
    live: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """A message as the page renders it: its facts as safe links, its time, its choices
    (``live`` while they are the ones offered last; ``labels`` renames some by payload)."""
    named = labels or {}
    return {
        "text": message.text,
        "parts": links.parts(message.text),
        "sender": message.sender,
        "language": message.language,
        "receipt": message.receipt,
        "crisis": message.crisis,
        "time": at.isoformat(),
        "buttons": [
            {"label": named.get(b.payload, b.label), "payload": b.payload} for b in message.buttons
        ],
        "live": live and bool(message.buttons),
    }


def linked_html(parts: list[dict[str, str]]) -> str:
    """Parts (from ``LinkFacts.parts``) as escaped HTML with their links."""
    return "".join(
        f'<a href="{html.escape(p["href"])}" dir="ltr">{html.escape(p["text"])}</a>'
        if "href" in p
        else html.escape(p["text"])
        for p in parts
    )


WELCOME_CHOICES = {
    "services": "start_services",
    "person": "start_person",
    "anon": "start_anonymous",
}
"""The first screen's choices (the page shows them before there is a conversation): their
payloads and the names of their labels in the page's texts."""


def history_json(
    lines: list[HistoryLine],
    render: Callable[[Outbound, datetime, bool], dict[str, object]],
    texts: Callable[[str], dict[str, str]],
) -> list[dict[str, object]]:
    """A reloaded conversation as the page renders it: a press shows the label pressed, the
    message it answered marks that choice (a second press of a choice already answered, a
    double tap, is left out), and only the choices offered last are live.
    ``render`` is ``WebChat.as_json``; ``texts(language)`` the page's words (the labels of
    the first screen's choices)."""
    messages: list[dict[str, object]] = []
    for line in lines:
        at = line.at or datetime.now().astimezone()
        if not line.mine:
            outbound = Outbound(
                line.text,
                line.language,
                line.buttons,
                "los" if line.sender == "los" else "bot",
                receipt=line.receipt,
                crisis=line.crisis,
            )
            messages.append(render(outbound, at, False))
            continue
        text = line.text or _label_of(line.pressed, messages)
        if not text and line.media == "document":  # a file sent with the paper clip
            text = texts(line.language)["attach_sent"]
        if not text and not messages and line.pressed in WELCOME_CHOICES:
            text = texts(line.language)[WELCOME_CHOICES[line.pressed]]
        if not text:
            continue
        mine: dict[str, object] = {
            "text": text,
            "sender": "me",
            "language": line.language,
            "time": at.isoformat(),
        }
        if line.pressed:
            mine["pressed"] = line.pressed
        messages.append(mine)
    last_mine = max((i for i, m in enumerate(messages) if m["sender"] == "me"), default=-1)
    for message in messages[last_mine + 1 :]:
        message["live"] = bool(message.get("buttons"))
    return messages


def _label_of(payload: str | None, earlier: list[dict[str, object]]) -> str:
    """The label of the choice a press made, as the page showed it; the latest message that
    offered it is marked as answered by it ("" when it was answered already)."""
    if payload is None:
        return ""
    if payload.startswith(LANGUAGE_PREFIX):
        return LANGUAGE_NAME.get(payload[len(LANGUAGE_PREFIX) :], "")
    for message in reversed(earlier):
        buttons = message.get("buttons")
        for button in buttons if isinstance(buttons, list) else []:
            if button["payload"] == payload:
                if "chosen" in message:
                    return ""
                message["chosen"] = payload
                return str(button["label"])
    return ""


def _area(given: object) -> str:
    """The area a message says it came through (the router keeps only a known one, and
    only for a new conversation)."""
    return given[:32] if isinstance(given, str) else ""


def preferred(accept_language: str, languages: tuple[str, ...]) -> str | None:
    """The first supported language in an Accept-Language header (by quality), if any;
    Norwegian without a written form ("no") is bokmål."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        code = "nb" if code == "no" else code
        if code in languages and quality > 0:
            ranked.append((-quality, index, code))
    return min(ranked)[2] if ranked else None


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
        links: LinkFacts | None = None,
        limits: AttachmentSettings | None = None,
    ) -> None:
        self.router = router
        self.limits = limits if limits is not None else router.settings.attachments
        self.links = links or LinkFacts({})
        self.tokens = ChatTokens(secret)
        self.catalogs = catalogs
        self.languages = languages
        self.default = default
        self.municipality = municipality
        self.numbers = numbers
        self.template = (STATIC / "chat.html").read_text(encoding="utf-8")

    def as_json(self, message: Outbound, at: datetime, live: bool = True) -> dict[str, object]:
        """A message as the page renders it (see ``as_json``), in the page's words."""
        labels = {p: self.catalogs(key, message.language) for p, key in WEB_LABELS.items()}
        return as_json(message, self.links, at, live, labels)

    def ui_texts(self, language: str, area: str = DEFAULT_AREA) -> dict[str, str]:
        """The page's own words in one language (naming the area's municipality)."""
        municipality = self.municipality
        if area != DEFAULT_AREA:
            municipality = self.router.areas.get(area).municipality.name
        params = {"municipality": municipality, **self.numbers}
        return {name: self.catalogs(key, language, **params) for name, key in UI_KEYS.items()}

    def _ui(self, language: str, area: str = DEFAULT_AREA) -> dict[str, object]:
        texts: dict[str, object] = dict(self.ui_texts(language, area))
        texts["emergency_parts"] = self.links.parts(str(texts["emergency"]))
        return texts

    async def page(self, request: Request) -> Response:
        """The chat page in ?lang=, else the browser's language when it is supported, else
        the default; every UI string from the catalogs, the emergency numbers as links. At
        /a/<area>/ the chat of that area (its conversations are the area's)."""
        area = request.path_params.get("area", DEFAULT_AREA)
        if area not in self.router.areas.settings:
            return Response(status_code=404)
        asked = request.query_params.get("lang")
        browser = preferred(request.headers.get("accept-language", ""), self.languages)
        lang = asked if asked in self.languages else browser or self.default
        texts = self.ui_texts(lang, area)
        everything: dict[str, object] = {code: self._ui(code, area) for code in self.languages}
        everything["_default"] = lang
        everything["_area"] = "" if area == DEFAULT_AREA else area
        everything["_fixed"] = asked in self.languages
        everything["_names"] = {code: LANGUAGE_NAME.get(code, code) for code in self.languages}
        everything["_rtl"] = sorted(RTL_LANGUAGES)
        body = self.template
        for name, value in {
            **texts,
            "lang": lang,
            "dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
        }.items():
            body = body.replace("{{" + name + "}}", html.escape(value))
        options = "".join(
            f'<option value="{code}" lang="{code}"{" selected" if code == lang else ""}>'
            f"{html.escape(LANGUAGE_NAME.get(code, code))}</option>"
            for code in self.languages
        )
        body = body.replace("{{language_options}}", options)
        emergency = linked_html(self.links.parts(texts["emergency"]))
        body = body.replace("{{emergency_html}}", emergency)
        body = body.replace(  # last: nothing in the texts is taken for a placeholder
            "{{ui_json}}", json.dumps(everything, ensure_ascii=False).replace("</", "<\\/")
        )
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
        hint = self._hint(request, data.get("language"))
        handled = await self.router.handle(
            Inbound(CHANNEL, token, text, hint, button, area=_area(data.get("area"))),
            external_id=message_id,
        )
        return self._answered(token, handled)

    def _answered(self, token: str, handled: Handled) -> JSONResponse:
        now = self.router.clock()
        return JSONResponse(
            {
                "token": token,
                "language": handled.language,
                "time": now.isoformat(),
                "replies": [self.as_json(r, now) for r in handled.replies],
            },
            headers=NO_STORE,
        )

    def _hint(self, request: Request, page_language: object) -> str | None:
        if isinstance(page_language, str) and page_language in self.languages:
            return page_language
        return clean_field(request.headers.get("accept-language", "")[:2])

    async def upload(self, request: Request) -> Response:
        """POST multipart (``file``; ``text``, ``id``, ``language``), token in X-Chat-Token:
        a photo or a PDF for the citizen's open case. The body is read no further than the
        size limit allows; a larger file is answered with the limits and never kept. Without
        a token the server issues one, as ``chat`` does."""
        if "token" in request.query_params or request.headers.get(TOKEN_HEADER):
            checked = self._token(request)
            if isinstance(checked, JSONResponse):
                return checked
            token = checked
        else:
            token = self.tokens.issue()  # a file as the first message: as /api/chat does
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return _refused("not_multipart", 400)
        cap = self.limits.max_bytes + FORM_ROOM
        declared = request.headers.get("content-length", "")
        body = bytearray()
        if declared.isdigit() and int(declared) > cap:
            upload: Upload | None = too_big(int(declared))
        else:
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > cap:
                    break
            upload = too_big(len(body)) if len(body) > cap else None
        if upload is not None:  # too big: no form to read, the flow says the limits
            handled = await self.router.handle(
                Inbound(CHANNEL, token, "", self._hint(request, None)), upload=upload
            )
            return self._answered(token, handled)
        form = await _form(request, bytes(body))
        if form is None:
            return _refused("invalid_form", 400)
        sent = form.get("file")
        if not isinstance(sent, UploadFile):
            return _refused("missing_file", 400)
        content = await sent.read(self.limits.max_bytes + 1)
        caption = form.get("text")
        given = form.get("id")
        message_id = clean_field(given) if isinstance(given, str) else None
        handled = await self.router.handle(
            Inbound(
                CHANNEL,
                token,
                caption if isinstance(caption, str) else "",
                self._hint(request, form.get("language")),
                area=_area(form.get("area")),
            ),
            external_id=message_id,
            upload=check(content, self.limits),
        )
        return self._answered(token, handled)

    async def poll(self, request: Request) -> Response:
        """POST (token in X-Chat-Token): messages that arrived (los replies, read receipts,
        the feedback question), and whether the los is writing now. Taking them marks them
        delivered: hence not a GET."""
        token = self._token(request)
        if isinstance(token, JSONResponse):
            return token
        pending = await self.router.take_pending(CHANNEL, token)
        typing = await self.router.los_typing(CHANNEL, token)
        now = self.router.clock()
        return JSONResponse(
            {"messages": [self.as_json(m, now) for m in pending], "los_typing": typing},
            headers=NO_STORE,
        )

    async def history(self, request: Request) -> Response:
        """GET (token in X-Chat-Token): the conversation so far, after a reload. Reads only."""
        token = self._token(request)
        if isinstance(token, JSONResponse):
            return token
        address = self.router.address(CHANNEL, token)
        shown = await self.router.store.run(self.router.store.history, CHANNEL, address, 100)
        messages = history_json(shown, self.as_json, self.ui_texts)
        return JSONResponse({"messages": messages}, headers=NO_STORE)

    def routes(self) -> list[BaseRoute]:
        """Everything the web chat serves; no third-party CDN."""
        return [
            Route("/", self.page),
            Route("/a/{area}/", self.page),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/poll", self.poll, methods=["POST"]),
            Route("/api/upload", self.upload, methods=["POST"]),
            Route("/api/history", self.history),
            Route("/embed.js", self.embed),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]

    async def embed(self, _: Request) -> Response:
        """The one-script-tag snippet for the municipality's web site, with its few words in
        every language (it speaks the host page's language)."""
        texts: dict[str, object] = {
            code: {
                name: self.catalogs(key, code, municipality=self.municipality)
                for name, key in EMBED_KEYS.items()
            }
            for code in self.languages
        }
        texts["_default"] = self.default
        texts["_rtl"] = sorted(RTL_LANGUAGES)
        script = (STATIC / "embed.js").read_text(encoding="utf-8")
        return Response(
            script.replace("{/*texts*/}", json.dumps(texts, ensure_ascii=False)),
            media_type="application/javascript",
        )
