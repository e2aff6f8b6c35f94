"""The application's web server: the citizens' web chat, the staff console, the Telegram, SMS
and WhatsApp webhooks.

Every response says ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``
(not no-referrer: with that, browsers send ``Origin: null`` on the console's own form posts,
which the console must refuse). Nothing may be framed (``frame-ancestors 'none'``) except
the citizens' chat page ``/`` itself, which municipalities embed on their sites
(``frame-ancestors *``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app import App
from bot.channels.delivery import SupervisedLoop
from bot.channels.sms import SmsChannel
from bot.channels.telegram import TelegramChannel, command_menus
from bot.channels.web_chat import WebChat
from bot.channels.whatsapp import WhatsAppChannel
from bot.console import Console
from bot.content import LiveLinks
from bot.ops_routes import ops_routes, readiness_check
from bot.staff_auth import StartPasswords
from bot.store.callbacks import Callbacks
from bot.store.content import ContentStore
from bot.store.db import engine_of
from bot.store.jobs import HeldLock
from bot.store.question_sets import QuestionSets
from bot.store.saved_answers import SavedAnswers
from bot.store.unplaced import UnplacedNotes
from bot.text_input import load_json

log = logging.getLogger(__name__)

EMBEDDABLE = frozenset({"/"})
AREA_CHAT_PREFIX = "/a/"
"""An area's chat page (/a/<area>/) may be framed like the default one."""
"""The paths other sites may frame: the chat page (the embed snippet opens it in a frame)."""
NO_FRAMING = "frame-ancestors 'none'"
DEFAULT_POLICY = f"default-src 'none'; {NO_FRAMING}"


class SecurityHeaders:
    """Headers on every response: no MIME sniffing, no referrer to other sites, no framing
    except of the chat page (a page's own Content-Security-Policy gains frame-ancestors
    'none' when it has none; a response without one gets default-src 'none')."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        embeddable = path in EMBEDDABLE or path.startswith(AREA_CHAT_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                policy = headers.get("content-security-policy")
                if not embeddable:
                    headers["X-Frame-Options"] = "DENY"
                    if policy is None:
                        headers["Content-Security-Policy"] = DEFAULT_POLICY
                    elif "frame-ancestors" not in policy:
                        headers["Content-Security-Policy"] = f"{policy}; {NO_FRAMING}"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_web_app(
    app: App,
    telegram: TelegramChannel | None = None,
    telegram_secret: str | None = None,
    sms: SmsChannel | None = None,
    staff_password: StartPasswords | str | None = None,
    whatsapp: WhatsAppChannel | None = None,
) -> Starlette:
    """Starlette routes over the application's router (and the Telegram, SMS and WhatsApp
    webhooks), with /healthz, /readyz and (when enabled) /metrics for operating it."""

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if (
            telegram is None
            or not telegram_secret
            or not hmac.compare_digest(given, telegram_secret)
        ):
            return Response(status_code=403)
        try:
            data = load_json(await request.body())
        except ValueError:
            data = None
        if data is None or not await telegram.process(data):
            return JSONResponse({"error": "not_an_update"}, status_code=400)
        return Response(status_code=200)

    numbers = {line.id: line.number for line in app.settings.crisis_lines}
    chat = WebChat(
        app.router,
        app.catalogs,
        app.settings.languages.supported,
        app.settings.languages.default,
        app.settings.municipality.name,
        {
            "police": numbers.get("police", "112"),
            "medical": numbers.get("medical", "113"),
            "youth": numbers.get("alarmtelefonen", "116 111"),
        },
        app.router.secret,
        LiveLinks(app.router.content),  # config.yml's facts and staff's changes to them
    )
    console = Console(
        app.queue,
        app.router.staffing,
        app.staff_records,
        app.catalogs,
        staff_password,
        answers=SavedAnswers(app.store.sessions, app.queue.clock),
        unplaced=UnplacedNotes(app.store.sessions, app.queue.clock),
        embedder=app.understander.fallback.embedder,
        question_sets=QuestionSets(app.store.sessions, app.queue.clock),
        content=(ContentStore(app.store.sessions, app.queue.clock), app.router.content),
        callbacks=Callbacks(app.store.sessions, app.queue.clock),
        area_staffing=app.router.area_staffing,
    )
    if console.answer_pages:
        console.answer_pages.seed()
    if console.own_voice:
        console.own_voice.seed()
    web = Starlette(
        routes=[
            *chat.routes(),
            *console.routes(),
            *ops_routes(app, readiness_check(app)),  # /healthz, /readyz, /metrics
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            *([Route(sms.settings.inbound_path, sms.webhook, methods=["POST"])] if sms else []),
            *(_whatsapp_routes(whatsapp) if whatsapp else []),
        ],
        middleware=[Middleware(SecurityHeaders)],
    )
    web.state.console = console
    return web


async def serve(app: App, *, pending_interval_s: float = 1.0) -> None:
    """Serve the web app (and Telegram, when a token is set) until interrupted, with the
    supervised background loops: the Telegram and SMS push loops and the router's pending
    work (events such as a los closing a case, messages a crashed worker left) every second."""
    settings = app.settings
    loops: dict[str, SupervisedLoop] = {}
    telegram: TelegramChannel | None = None
    poller: HeldLock | None = None
    polling: asyncio.Task[None] | None = None
    secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
    if settings.telegram_token:
        menus = command_menus(
            app.catalogs, settings.languages.supported, settings.languages.default
        )
        telegram = TelegramChannel(
            app.router, settings.telegram_token, base_url=settings.telegram_api_url, menus=menus
        )
        if settings.web.public_url:
            url = settings.web.public_url.rstrip("/") + "/telegram/webhook"
            await telegram.start_webhook(url, secret)
            print("Telegram: webhook registered", flush=True)
            loops["telegram"] = telegram.push_loop
        else:
            poller = HeldLock(engine_of(app.store.sessions), "telegram polling")
            polling = asyncio.create_task(poll_when_holding(telegram, poller, loops))
    password = start_passwords(app)
    sms: SmsChannel | None = None
    if settings.sms.enabled:
        if not settings.sms_shared_secret:
            raise SystemExit("sms.enabled needs SMS_SHARED_SECRET in the environment")
        sms = SmsChannel(
            app.router, settings.sms, settings.sms_shared_secret, settings.sms_api_token
        )
        loops["sms"] = _push_sms(sms)
        print(f"SMS: webhook at {settings.sms.inbound_path}", flush=True)
    whatsapp = _start_whatsapp(app, loops)
    loops["pending"] = SupervisedLoop(
        "pending", app.router.process_pending, pending_interval_s
    ).start()
    web = create_web_app(app, telegram, secret if telegram else None, sms, password, whatsapp)
    web.state.loops = loops
    config = uvicorn.Config(
        web,
        host=app.settings.web.host,
        port=app.settings.web.port,
        log_level="warning",
        access_log=False,
        log_config=None,  # uvicorn's own records go through our handler (text or JSON)
    )
    server = uvicorn.Server(config)
    print(f"Inngang web chat: http://{app.settings.web.host}:{app.settings.web.port}/", flush=True)
    try:
        await server.serve()
    finally:
        await loops["pending"].stop()
        if polling is not None:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
        if telegram is not None and (poller is None or poller.held):
            await telegram.stop()
        if poller is not None:
            await asyncio.to_thread(poller.release)
        if sms is not None:
            await loops["sms"].stop()
            await sms.aclose()
        if whatsapp is not None:
            await loops["whatsapp"].stop()
            await whatsapp.aclose()


POLLER_RETRY_S = 10.0


async def poll_when_holding(
    telegram: TelegramChannel,
    poller: HeldLock,
    loops: dict[str, SupervisedLoop],
    retry_s: float = POLLER_RETRY_S,
) -> None:
    """Telegram lets one client poll a bot: of several replicas sharing a PostgreSQL, the one
    holding the "telegram polling" lock polls (and pushes Telegram's outbox); the others try
    again every ``retry_s`` and take over when it dies. One process on SQLite polls at once.
    (Several replicas are better served by webhook: set web.public_url.)"""
    waiting_said = False
    while not await asyncio.to_thread(poller.try_acquire):
        if not waiting_said:
            print("Telegram: another replica polls; this one takes over if it stops", flush=True)
            waiting_said = True
        await asyncio.sleep(retry_s)
    try:
        await telegram.start_polling()
    except Exception as error:  # say so, and leave the role to another replica
        log.error("Telegram: polling could not start error=%s", type(error).__name__)
        await asyncio.to_thread(poller.release)
        raise
    loops["telegram"] = telegram.push_loop
    print("Telegram: polling for updates", flush=True)


def start_passwords(app: App) -> StartPasswords:
    """The passwords of staff who have none of their own yet, said at start: with
    INNGANG_STAFF_PASSWORD set, that one; with the shipped example configuration, a new one
    per account for this run (printed, so a new user can sign in at once); otherwise none
    (an operator sets each with `inngang staff password <id>`)."""
    settings = app.settings
    url = f"http://{settings.web.host}:{settings.web.port}/staff"
    accounts = app.router.staffing.accounts
    assert accounts is not None
    without = [a for a in accounts.all() if not a.disabled and not a.has_password]
    if settings.staff_password:
        print(
            f"Staff console: {url} (staff without their own password use INNGANG_STAFF_PASSWORD)",
            flush=True,
        )
        return StartPasswords(settings.staff_password)
    if not settings.example_data:
        print(f"Staff console: {url}", flush=True)
        if without:
            print(
                f"  {len(without)} staff account(s) have no password yet: "
                f"{', '.join(a.id for a in without)}; set one with "
                "`inngang staff password <id>`",
                flush=True,
            )
        return StartPasswords()
    start = StartPasswords.made_up(a.id for a in without)
    print(f"Staff console: {url}", flush=True)
    if without:
        print(
            "  Demo staff accounts (example data) with start passwords for this run only; "
            "each can set their own in the console or with `inngang staff password <id>`:",
            flush=True,
        )
        for account in without:
            print(
                f"    {account.id:10} {start.per_account[account.id]}   "
                f"{account.name} ({account.role}"
                f"{', ' + account.service if account.service else ''})",
                flush=True,
            )
    return start


def _push_sms(sms: SmsChannel, interval_s: float = 2.0) -> SupervisedLoop:
    """The SMS push loop, supervised: it survives any failure and reports on /readyz."""
    return SupervisedLoop("sms", sms.push_pending, interval_s).start()


def _whatsapp_routes(whatsapp: WhatsAppChannel) -> list[Route]:
    path = whatsapp.settings.webhook_path
    return [
        Route(path, whatsapp.verify, methods=["GET"]),
        Route(path, whatsapp.webhook, methods=["POST"]),
    ]


def _start_whatsapp(app: App, loops: dict[str, SupervisedLoop]) -> WhatsAppChannel | None:
    """The WhatsApp channel and its supervised push loop, when ``whatsapp.enabled``; it needs
    WHATSAPP_TOKEN, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN in the environment."""
    settings = app.settings
    if not settings.whatsapp.enabled:
        return None
    token = settings.whatsapp_token
    app_secret = settings.whatsapp_app_secret
    verify_token = settings.whatsapp_verify_token
    if not token or not app_secret or not verify_token:
        given = {
            "WHATSAPP_TOKEN": token,
            "WHATSAPP_APP_SECRET": app_secret,
            "WHATSAPP_VERIFY_TOKEN": verify_token,
        }
        missing = ", ".join(name for name, value in given.items() if not value)
        raise SystemExit(f"whatsapp.enabled needs {missing} in the environment")
    whatsapp = WhatsAppChannel(
        app.router,
        settings.whatsapp,
        token,
        app_secret,
        verify_token,
    )
    loops["whatsapp"] = SupervisedLoop("whatsapp", whatsapp.push_pending, 2.0).start()
    print(f"WhatsApp: webhook at {settings.whatsapp.webhook_path}", flush=True)
    return whatsapp
