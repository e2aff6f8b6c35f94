"""The application's web server: the citizens' web chat, the Telegram and SMS webhooks."""

from __future__ import annotations

import asyncio
import hmac
import secrets

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.channels.sms import SmsChannel
from bot.channels.telegram import TelegramChannel, command_menus
from bot.channels.web_chat import WebChat
from bot.console import Console


def create_web_app(
    app: App,
    telegram: TelegramChannel | None = None,
    telegram_secret: str | None = None,
    sms: SmsChannel | None = None,
    staff_password: str | None = None,
) -> Starlette:
    """Starlette routes over the application's router (and the Telegram and SMS webhooks)."""

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if (
            telegram is None
            or not telegram_secret
            or not hmac.compare_digest(given, telegram_secret)
        ):
            return Response(status_code=403)
        try:
            data = await request.json()
        except ValueError:
            return Response(status_code=400)
        await telegram.process(data)
        return Response(status_code=200)

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True, "nlu": app.understander.rasa_available})

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
    )
    return Starlette(
        routes=[
            *chat.routes(),
            *Console(app.queue, app.router.staffing, app.catalogs, staff_password).routes(),
            Route("/healthz", health),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            *([Route(sms.settings.inbound_path, sms.webhook, methods=["POST"])] if sms else []),
        ]
    )


async def serve(app: App) -> None:
    """Serve the web app (and Telegram, when a token is set) until interrupted."""
    settings = app.settings
    telegram: TelegramChannel | None = None
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
        else:
            await telegram.start_polling()
            print("Telegram: polling for updates", flush=True)
    password = settings.staff_password or secrets.token_urlsafe(9)
    if not settings.staff_password:
        print(
            f"Staff console: http://{settings.web.host}:{settings.web.port}/staff (user: a "
            "staff id from the roster; password: their own, set with `inngang staff password "
            f"<id>`, or for staff without one, this run's: {password})",
            flush=True,
        )
    sms: SmsChannel | None = None
    if settings.sms.enabled:
        if not settings.sms_shared_secret:
            raise SystemExit("sms.enabled needs SMS_SHARED_SECRET in the environment")
        sms = SmsChannel(
            app.router, settings.sms, settings.sms_shared_secret, settings.sms_api_token
        )
        pusher = asyncio.create_task(_push_sms(sms))
        print(f"SMS: webhook at {settings.sms.inbound_path}", flush=True)
    config = uvicorn.Config(
        create_web_app(app, telegram, secret if telegram else None, sms, password),
        host=app.settings.web.host,
        port=app.settings.web.port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    print(f"Inngang web chat: http://{app.settings.web.host}:{app.settings.web.port}/", flush=True)
    try:
        await server.serve()
    finally:
        if telegram is not None:
            await telegram.stop()
        if sms is not None:
            pusher.cancel()
            await sms.aclose()


async def _push_sms(sms: SmsChannel) -> None:
    while True:
        await sms.push_pending()
        await asyncio.sleep(2.0)
