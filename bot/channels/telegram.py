"""Telegram with python-telegram-bot: polling, or a webhook behind the application's server.

- Each update is handled once: the update_id is the message's external id (duplicates from
  replays, retries and restarts are ignored by the store); updates are processed one at a
  time, so per-chat order is kept.
- Only private chats are served; groups and channel posts are ignored.
- Text goes out as plain text (no parse mode: citizen text is never interpreted as markup),
  split at 4096 characters on word boundaries, with inline keyboard buttons.
- Sending respects Telegram's limits: AIORateLimiter (30/s overall, 20/min per group, retries
  on 429 retry_after) plus at least `per_chat_interval_s` between messages to one chat.
- A 403 (the citizen blocked the bot) marks the conversation unreachable for the los.
- Platform user ids are never stored: the chat id to push los replies to is kept in memory
  only, by the conversation's keyed hash; after a restart a reply waits until the citizen
  writes again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n import Catalogs
from bot.router import Router
from flows.commands import SLASH_KEYS, Command
from flows.types import Inbound, Outbound

CHANNEL = "telegram"
MAX_MESSAGE = 4096
log = logging.getLogger(__name__)

MEDIA_FILTER = (
    filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.PHOTO
    | filters.Sticker.ALL
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)


MENU = (
    Command.START,
    Command.HELP,
    Command.LANGUAGE,
    Command.ANONYMOUS,
    Command.MY_DATA,
    Command.DELETE,
    Command.WITHDRAW,
    Command.STOP,
)
_TELEGRAM_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
TELEGRAM_LANGUAGE_CODES = {"nb": ("nb", "no")}

Menus = dict[str | None, list[tuple[str, str]]]


def command_menus(catalogs: Catalogs, languages: Sequence[str], default: str) -> Menus:
    """The command menu per Telegram language code (None: everyone else), from the catalogs."""
    menus: Menus = {}
    for language in languages:
        menu = []
        for command in MENU:
            names = [n.strip() for n in catalogs(SLASH_KEYS[command], language).split("|")]
            name = next((n for n in names if _TELEGRAM_COMMAND.match(n)), command.value)
            menu.append((name, catalogs(f"command.describe.{command.value}", language)))
        for code in TELEGRAM_LANGUAGE_CODES.get(language, (language,)):
            menus[code] = menu
        if language == default:
            menus[None] = menu
    return menus


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Parts of at most ``limit`` characters, cut at a paragraph, line or word boundary."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def _marked(kind: str, words: str | None) -> str:
    """The text recorded for a message the bot cannot take as such: its kind, and any words
    the citizen wrote with it (a caption, an edit), which still go through the crisis check."""
    return f"[{kind}] {words}" if words else f"[{kind}]"


def keyboard(outbound: Outbound) -> InlineKeyboardMarkup | None:
    """Inline buttons, one per row (short labels such as emoji share one row)."""
    if not outbound.buttons:
        return None
    buttons = [InlineKeyboardButton(b.label, callback_data=b.payload) for b in outbound.buttons]
    if all(len(b.label) <= 3 for b in outbound.buttons):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])


class TelegramChannel:
    """The Telegram side of Inngang."""

    def __init__(
        self,
        router: Router,
        token: str,
        *,
        base_url: str | None = None,
        per_chat_interval_s: float = 1.0,
        push_interval_s: float = 2.0,
        menus: Menus | None = None,
    ) -> None:
        self.router = router
        self.menus = menus or {}
        self.per_chat_interval_s = per_chat_interval_s
        self.push_interval_s = push_interval_s
        builder = ApplicationBuilder().token(token).rate_limiter(AIORateLimiter(max_retries=3))
        if base_url is not None:
            builder = builder.base_url(f"{base_url}/bot").base_file_url(f"{base_url}/file/bot")
        self.application: Application = builder.concurrent_updates(False).build()  # type: ignore[type-arg]
        self._chats: dict[str, int] = {}
        self._last_sent: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._pusher: asyncio.Task[None] | None = None
        private = filters.ChatType.PRIVATE
        app = self.application
        app.add_handler(MessageHandler(private & filters.UpdateType.EDITED, self._on_edited))
        app.add_handler(MessageHandler(private & filters.TEXT, self._on_text))
        app.add_handler(MessageHandler(private & MEDIA_FILTER, self._on_media))
        app.add_handler(CallbackQueryHandler(self._on_button))

    async def _on_text(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        await self._handle(update, message.text, None, None)

    async def _on_media(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        kind = "media"
        if message is not None:
            for name in ("voice", "photo", "sticker", "document", "location", "video", "audio"):
                if getattr(message, name, None):
                    kind = name
                    break
        caption = message.caption if message is not None else None
        await self._handle(update, _marked(kind, caption), None, kind)

    async def _on_edited(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        words = (message.text or message.caption) if message is not None else None
        await self._handle(update, _marked("edited", words), None, "edited")

    async def _on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except TelegramError:
            log.warning("answerCallbackQuery failed")
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return
        await self._handle(update, "", query.data, None)

    async def _handle(
        self, update: Update, text: str, button: str | None, media: str | None
    ) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != "private":
            return
        key = str(user.id)
        address = self.router.address(CHANNEL, key)
        self._chats[address] = chat.id
        pending = self.router.take_pending(CHANNEL, key)
        handled = await self.router.handle(
            Inbound(CHANNEL, key, text, user.language_code, button, media=media),
            external_id=str(update.update_id),
        )
        replies = () if handled.duplicate else handled.replies  # sent the first time
        await self.send(chat.id, address, [*pending, *replies])

    async def send(self, chat_id: int, address: str, messages: Sequence[Outbound]) -> bool:
        """Send in order, split and paced; False (and the conversation marked) if blocked."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            for message in messages:
                parts = split_text(message.text)
                for index, part in enumerate(parts):
                    markup = keyboard(message) if index == len(parts) - 1 else None
                    wait = self._last_sent.get(chat_id, 0.0) + self.per_chat_interval_s
                    delay = wait - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    try:
                        await self.application.bot.send_message(chat_id, part, reply_markup=markup)
                    except Forbidden:
                        self.router.store.mark_unreachable(CHANNEL, address)
                        log.info("telegram chat blocked the bot; marked unreachable")
                        return False
                    finally:
                        self._last_sent[chat_id] = time.monotonic()
        return True

    async def push_pending(self) -> int:
        """Deliver waiting los replies to chats seen since start; returns messages sent."""
        sent = 0
        for address in self.router.store.pending_addresses(CHANNEL):
            chat_id = self._chats.get(address)
            if chat_id is None:
                continue
            messages = self.router.take_pending_by_address(CHANNEL, address)
            if await self.send(chat_id, address, messages):
                sent += len(messages)
        return sent

    async def _push_loop(self) -> None:
        while True:
            try:
                await self.push_pending()
            except TelegramError:
                log.warning("pushing pending telegram messages failed")
            await asyncio.sleep(self.push_interval_s)

    async def _register_menus(self) -> None:
        for code, menu in self.menus.items():
            commands = [BotCommand(name, description) for name, description in menu]
            await self.application.bot.set_my_commands(commands, language_code=code)

    async def start_polling(self) -> None:
        """Initialise, start the application and poll for updates."""
        await self.application.initialize()
        await self.application.start()
        await self._register_menus()
        assert self.application.updater is not None
        await self.application.updater.start_polling(drop_pending_updates=False)
        self._pusher = asyncio.create_task(self._push_loop())

    async def start_webhook(self, url: str, secret_token: str) -> None:
        """Initialise, start, and register the webhook (updates arrive via `process`)."""
        await self.application.initialize()
        await self.application.start()
        await self._register_menus()
        await self.application.bot.set_webhook(
            url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES
        )
        self._pusher = asyncio.create_task(self._push_loop())

    async def process(self, data: object) -> None:
        """Feed one webhook update (already authenticated) to the application."""
        update = Update.de_json(data, self.application.bot)  # type: ignore[arg-type]
        await self.application.process_update(update)

    async def stop(self) -> None:
        """Stop polling, the pusher and the application."""
        if self._pusher is not None:
            self._pusher.cancel()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
