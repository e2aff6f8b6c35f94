"""Interactive terminal chat for people trying the bot."""

from __future__ import annotations

import asyncio
import sys

from bot.channels.render import as_plain_text, plain_texts
from bot.router import Router
from flows.types import Inbound

CHANNEL = "terminal"


async def _print_pending(router: Router, user: str, every_s: float) -> None:
    while True:
        for message in await router.store.run(router.take_pending, CHANNEL, user):
            print(f"\n[{message.sender}] {as_plain_text(message)}\n", flush=True)
        await asyncio.sleep(every_s)


async def chat(router: Router, user: str, prompt: str = "> ") -> None:
    """Read lines and print the replies until EOF; los replies appear as they come."""
    loop = asyncio.get_running_loop()
    poller = asyncio.create_task(_print_pending(router, user, 1.0))
    try:
        await _loop(router, user, prompt, loop)
    finally:
        poller.cancel()


async def _loop(router: Router, user: str, prompt: str, loop: asyncio.AbstractEventLoop) -> None:
    while True:
        try:
            line = await loop.run_in_executor(None, lambda: input(prompt))
        except (EOFError, KeyboardInterrupt):
            print()
            return
        handled = await router.handle(Inbound(CHANNEL, user, line))
        for reply, text in zip(handled.replies, plain_texts(handled.replies), strict=True):
            sender = "los" if reply.sender == "los" else "bot"
            print(f"[{sender}] {text}\n", file=sys.stdout, flush=True)
