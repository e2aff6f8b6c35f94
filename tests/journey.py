"""A small driver for journeys through the real router and queue (no network)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.app import App
from bot.channels.render import as_plain_text
from bot.router import Handled
from flows.types import Inbound


@dataclass
class Citizen:
    """Someone writing to the bot on one channel."""

    app: App
    user: str
    channel: str = "jsonl"
    seen: list[str] = field(default_factory=list)

    async def says(self, text: str, button: str | None = None) -> Handled:
        handled = await self.app.router.handle(
            Inbound(self.channel, self.user, text, button=button)
        )
        self.seen.extend(as_plain_text(reply) for reply in handled.replies)
        return handled

    def last(self) -> str:
        return self.seen[-1]

    async def inbox(self) -> list[str]:
        """Messages that arrived from the los side, in order (after the router handled what
        happened meanwhile, such as the los closing the case)."""
        await self.app.router.process_pending()
        return [
            as_plain_text(m) for m in await self.app.router.take_pending(self.channel, self.user)
        ]


def claim_concurrently(app: App, reference: str, staff: Sequence[str]) -> list[bool]:
    """Every staff member claims the case at the same moment, each in its own thread."""
    results: list[bool] = []
    barrier = threading.Barrier(len(staff))

    def claim(staff_id: str) -> None:
        barrier.wait()
        results.append(app.queue.claim(reference, staff_id))

    threads = [threading.Thread(target=claim, args=(s,)) for s in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
