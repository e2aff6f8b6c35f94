"""Telegram with python-telegram-bot: polling, or a webhook behind the application's server.

- Each update is handled once: the update_id is the message's external id (duplicates from
  replays, retries and restarts are answered by nobody: the store recognises them).
- Chats are handled concurrently; one chat's updates one at a time, in the order they came
  (``ChatOrder``), so one busy chat never delays another family's answer.
- Only private chats are served; groups and channel posts are ignored.
- Text goes out as plain text (no parse mode: citizen text is never interpreted as markup),
  split at 4096 characters on word boundaries, with inline keyboard buttons.
- Sending respects Telegram's limits: 30/s overall and 20/min per group (``Limits``), and at
  least ``per_chat_interval_s`` between messages to one chat. A 429 is waited out by that
  chat's delivery alone (up to ``inline_retry_max_s``; longer waits go to the outbox).
- Delivery is exactly once where Telegram allows it (bot/channels/delivery.py): what waits in
  the outbox goes first, each message is acknowledged only after Telegram accepted all its
  parts, a transient failure puts the rest in the outbox with back-off, and a 403 (the citizen
  blocked the bot) marks the conversation unreachable and keeps everything for when they write
  again. (A timeout after Telegram took a message may still show it twice: the Bot API has
  no idempotency key.)
- The chat id is stored with the conversation (``set_push_address``) on every update, so
  after a restart a los reply is pushed without waiting for the citizen.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram import Message as TelegramMessage
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.areas import start_area
from bot.attachments import Upload, check, too_big
from bot.channels.delivery import Deliverer, SendOne, SupervisedLoop, Undelivered
from bot.channels.render import split_text
from bot.content import LiveContent
from bot.i18n import Catalogs
from bot.locks import KeyedLocks
from bot.router import Router
from bot.settings import Settings
from bot.text_input import clean_field
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
    Command.PERSON,
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


def phone_numbers(settings: Settings) -> dict[str, str]:
    """The municipality's phone numbers (the services', the after-hours lines', the help lines
    of eight digits or more) and their full international form ("55 10 20 01" -> "+47 55 10
    20 01"), which Telegram's apps show as a number to tap and call. Short numbers (113,
    112, 116 111) are dialled as they are and stay so."""
    found = {settings.after_hours.phone, *(line.number for line in settings.crisis_lines)}
    for service in settings.services:
        found.update(n for n in (service.phone, service.after_hours_phone) if n)
    code = settings.municipality.calling_code
    return {
        number: f"{code} {number}"
        for number in found
        if not number.startswith("+") and sum(c.isdigit() for c in number) >= 8
    }


def tappable(settings: Settings) -> Callable[[str], str]:
    """A function that writes the municipality's numbers (``phone_numbers``), wherever they
    stand whole in a text and are not written so already, in their international form."""
    numbers = phone_numbers(settings)
    if not numbers:
        return lambda text: text
    code = re.escape(settings.municipality.calling_code)
    alternatives = "|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\d+])(?<!{code} )({alternatives})(?!\d)")
    return lambda text: pattern.sub(lambda match: numbers[match.group(1)], text)


def live_tappable(content: LiveContent) -> Callable[[str], str]:
    """``tappable`` over the content in force (staff may change a service's numbers: see
    bot/content.py), built again only when its revision moved."""
    built: dict[int, Callable[[str], str]] = {}

    def tap(text: str) -> str:
        effective = content.latest()
        if effective.revision not in built:
            built.clear()
            built[effective.revision] = tappable(effective.settings)
        return built[effective.revision](text)

    return tap


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


INLINE_RETRIES = 3
"""How often one part is retried in place after a 429 before it goes to the outbox."""
JSON = bool | dict[str, Any] | list[dict[str, Any]]


class Limits(BaseRateLimiter[int]):
    """Telegram's broadcast limits: 30 messages a second overall, 20 a minute per group. A 429
    is not waited out here (that would hold every chat, as AIORateLimiter does): it goes to
    the delivery of the one chat it concerns."""

    def __init__(self, overall_per_s: float = 30, group_per_minute: float = 20) -> None:
        self._overall = AsyncLimiter(overall_per_s, 1)
        self._group_per_minute = group_per_minute
        self._groups: dict[int, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group(self, chat: int) -> AsyncLimiter:
        if len(self._groups) > 512:  # forget groups whose whole allowance is back
            for key, limiter in list(self._groups.items()):
                if key != chat and limiter.has_capacity(limiter.max_rate):
                    del self._groups[key]
        return self._groups.setdefault(chat, AsyncLimiter(self._group_per_minute, 60))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        """Wait for the overall (and group) allowance, then make the request once."""
        chat_id = data.get("chat_id")
        if chat_id is None:  # getUpdates, setMyCommands, answerCallbackQuery, ...
            return await callback(*args, **kwargs)
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            chat = -1  # a @channel name
        if chat < 0:
            async with self._group(chat), self._overall:
                return await callback(*args, **kwargs)
        async with self._overall:
            return await callback(*args, **kwargs)


def _is_id(value: object) -> bool:
    """A Telegram id: an integer (not a boolean) in 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


_NOT_AN_UPDATE = (TypeError, ValueError, KeyError, AttributeError, OverflowError)
"""What python-telegram-bot raises for JSON that is not an update of the kind it says."""


def parse_update(data: object, bot: Any) -> Update | None:
    """The update, or None when ``data`` is not one Telegram would send: not an object,
    fields of the wrong type, ids that are not integers."""
    if not isinstance(data, dict) or not _is_id(data.get("update_id")):
        return None
    try:
        update = Update.de_json(data, bot)
    except _NOT_AN_UPDATE:
        return None
    chat, user = update.effective_chat, update.effective_user
    if (chat is not None and not _is_id(chat.id)) or (user is not None and not _is_id(user.id)):
        return None
    if update.effective_message is not None and chat is None:
        return None  # a message always comes from a chat
    return update


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class ChatOrder(BaseUpdateProcessor):
    """Updates of different chats are handled concurrently, one chat's one at a time in the
    order they arrived (each waits for the one before it; asyncio locks are fair)."""

    def __init__(self, max_concurrent_updates: int = 1024) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: KeyedLocks[int] = KeyedLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the update's handling after the same chat's earlier updates."""
        chat = _chat_of(update)
        if chat is None:
            await coroutine
            return
        async with self._chats.hold(chat):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _retry_after_s(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int or a timedelta, depending on PTB_TIMEDELTA
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


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
        inline_retry_max_s: float = 10.0,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.router = router
        self.menus = menus or {}
        self.tappable = live_tappable(router.content)  # staff's changed numbers too
        self.per_chat_interval_s = per_chat_interval_s
        self.inline_retry_max_s = inline_retry_max_s
        self.clock = clock
        self.updates = ChatOrder()
        builder = ApplicationBuilder().token(token).rate_limiter(Limits())
        if base_url is not None:
            builder = builder.base_url(f"{base_url}/bot").base_file_url(f"{base_url}/file/bot")
        self.application: Application = builder.concurrent_updates(self.updates).build()  # type: ignore[type-arg]
        self.deliverer = Deliverer(
            router.store,
            CHANNEL,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            metrics=router.metrics,
        )
        self.push_loop = SupervisedLoop("telegram", self.push_pending, push_interval_s)
        self._next_send: dict[int, float] = {}
        """Chat id -> when the next message may go to it (pacing, a 429's retry_after)."""
        self._pushing: dict[str, asyncio.Task[int]] = {}
        self._stopping = False
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
        if message is not None and kind in ("photo", "document"):
            upload = await self._fetch(message)
            if upload is not None:  # a document for the case: the flow decides
                await self._handle(update, caption or "", None, None, upload)
                return
        await self._handle(update, _marked(kind, caption), None, kind)

    async def _fetch(self, message: TelegramMessage) -> Upload | None:
        """A photo (its largest size within the limit) or a document, downloaded and checked
        (``bot.attachments``); one too big is not downloaded. None when it could not be
        fetched: then it is answered as media the bot cannot take."""
        limits = self.router.settings.attachments
        if message.photo:
            fitting = [p for p in message.photo if (p.file_size or 0) <= limits.max_bytes]
            if not fitting:
                return too_big(max(p.file_size or 0 for p in message.photo))
            file_id, size = fitting[-1].file_id, fitting[-1].file_size  # sizes grow
        elif message.document is not None:
            file_id, size = message.document.file_id, message.document.file_size
        else:
            return None
        if size is not None and size > limits.max_bytes:
            return too_big(size)
        try:
            found = await self.application.bot.get_file(file_id)
            if found.file_size is not None and found.file_size > limits.max_bytes:
                return too_big(found.file_size)
            content = await found.download_as_bytearray()
        except (TelegramError, httpx.HTTPError) as error:
            log.warning("telegram file download failed error=%s", type(error).__name__)
            return None
        return check(bytes(content), limits)

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
        await self._handle(update, "", query.data if isinstance(query.data, str) else None, None)

    async def _handle(
        self,
        update: Update,
        text: str,
        button: str | None,
        media: str | None,
        upload: Upload | None = None,
    ) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != "private":
            return
        key = str(user.id)
        address = self.router.address(CHANNEL, key)
        text = text if isinstance(text, str) else ""
        button = clean_field(button)
        hint = clean_field(user.language_code, 8)
        handled = await self.router.handle(
            Inbound(CHANNEL, key, text, hint, button, media=media, area=start_area(text)),
            external_id=str(update.update_id),
            upload=upload,
        )
        await self._remember(address, chat.id)
        fresh = () if handled.duplicate or handled.queued else handled.replies  # else queued
        await self.deliverer.deliver(address, self._sender(chat.id), fresh)

    async def _remember(self, address: str, chat_id: int) -> None:
        """Keep the chat id with the conversation, for pushing los replies after a restart."""
        store = self.router.store
        try:
            await store.run(store.set_push_address, CHANNEL, address, str(chat_id))
        except Exception as error:  # the answer matters more
            log.warning("storing the telegram push address failed error=%s", type(error).__name__)

    def _sender(self, chat_id: int) -> SendOne:
        async def send(message: Outbound, start: int, _key: str | None) -> None:
            parts = split_text(self.tappable(message.text), MAX_MESSAGE)
            for index in range(start, len(parts)):
                markup = keyboard(message) if index == len(parts) - 1 else None
                await self._send_part(chat_id, parts[index], markup, index)

        return send

    async def _pace(self, chat_id: int, index: int) -> None:
        """Wait until the chat may get its next message; a wait longer than
        ``inline_retry_max_s`` (a long 429) goes to the outbox instead."""
        delay = self._next_send.get(chat_id, 0.0) - self.clock()
        if delay > 0 and self._stopping:  # kept for the next start rather than waited for
            raise Undelivered("Stopping", parts_done=index, retry_after_s=0.0)
        if delay > self.inline_retry_max_s:
            raise Undelivered("RetryAfter", parts_done=index, retry_after_s=delay)
        if delay > 0:
            await asyncio.sleep(delay)

    async def _send_part(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, index: int
    ) -> None:
        """Send one part; raise Undelivered when Telegram does not take it."""
        for attempt in range(INLINE_RETRIES + 1):
            await self._pace(chat_id, index)
            try:
                await self.application.bot.send_message(chat_id, text, reply_markup=markup)
            except RetryAfter as error:
                wait = _retry_after_s(error)
                self._next_send[chat_id] = self.clock() + wait
                if attempt == INLINE_RETRIES or wait > self.inline_retry_max_s:
                    raise Undelivered("RetryAfter", parts_done=index, retry_after_s=wait) from None
                log.info("telegram asked one chat to wait %.0f s", wait)
                continue
            except Forbidden:
                self._next_send[chat_id] = self.clock() + self.per_chat_interval_s
                raise Undelivered("Forbidden", parts_done=index, blocked=True) from None
            except BadRequest as error:
                self._next_send[chat_id] = self.clock() + self.per_chat_interval_s
                gone = "chat not found" in error.message.lower()
                raise Undelivered("BadRequest", parts_done=index, blocked=gone) from None
            except TelegramError as error:  # NetworkError, TimedOut, 5xx: transient
                self._next_send[chat_id] = self.clock() + self.per_chat_interval_s
                raise Undelivered(type(error).__name__, parts_done=index) from None
            self._next_send[chat_id] = self.clock() + self.per_chat_interval_s
            return

    async def push_pending(self) -> int:
        """Start delivering what waits for reachable chats: one task per chat, so no chat's
        pacing or 429 holds another; returns how many chats were started."""
        now = self.clock()
        for chat_id, at in list(self._next_send.items()):
            if at < now:
                del self._next_send[chat_id]
        store = self.router.store
        started = 0
        for address, push_address in await store.run(store.pending_pushes, CHANNEL):
            if address in self._pushing or self.deliverer.busy(address):
                continue  # the delivery under way sends it, or the next round does
            if push_address is None or not push_address.lstrip("-").isdigit():
                continue  # no chat id known yet: it comes with the citizen's next message
            task = asyncio.create_task(
                self.deliverer.deliver(address, self._sender(int(push_address)))
            )
            self._pushing[address] = task
            task.add_done_callback(partial(self._pushed, address))
            started += 1
        return started

    def _pushed(self, address: str, task: asyncio.Task[int]) -> None:
        self._pushing.pop(address, None)
        if not task.cancelled() and task.exception() is not None:
            log.warning("telegram push failed error=%s", type(task.exception()).__name__)

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
        self.push_loop.start()

    async def start_webhook(self, url: str, secret_token: str) -> None:
        """Initialise, start, and register the webhook (updates arrive via `process`)."""
        await self.application.initialize()
        await self.application.start()
        await self._register_menus()
        await self.application.bot.set_webhook(
            url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES
        )
        self.push_loop.start()

    async def process(self, data: object) -> bool:
        """Handle one webhook update (already authenticated), in order with its chat's
        others; returns when it was handled and answered, False (nothing done) when ``data``
        is not an update."""
        update = parse_update(data, self.application.bot)
        if update is None:
            return False
        await self.updates.process_update(update, self.application.process_update(update))
        return True

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop the pusher, polling and the application. Updates already fetched are still
        handled; replies that would wait for pacing go to the outbox for the next start."""
        self._stopping = True
        await self.push_loop.stop()
        if self._pushing:
            await asyncio.wait(list(self._pushing.values()), timeout=grace_s)
        for task in list(self._pushing.values()):
            task.cancel()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
