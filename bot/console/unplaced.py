"""What the bot did not understand, at /staff/unplaced: the masked notes of messages it
could not place, in groups of alike messages, biggest first, with what it guessed and what
citizens chose. For leaders and admins (the content editors); every view is audited."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.staff import Permission, may
from bot.store.unplaced import UnplacedNotes
from bot.unplaced_groups import grouped, shown_count
from flows.effects import UnplacedReason
from flows.types import N_
from nlu.embeddings import Embedder

if TYPE_CHECKING:
    from bot.console.app import Console

EXAMPLES_SHOWN = 10
"""Messages shown per group (the rest are counted)."""
REASON_KEYS = {
    UnplacedReason.UNSURE: N_("console.unplaced.reason.unsure"),
    UnplacedReason.OUT_OF_SCOPE: N_("console.unplaced.reason.out_of_scope"),
    UnplacedReason.NOT_UNDERSTOOD: N_("console.unplaced.reason.not_understood"),
}


class UnplacedPage:
    """The editors' page of unplaced messages."""

    def __init__(
        self, console: Console, notes: UnplacedNotes, embedder: Embedder | None = None
    ) -> None:
        self.console = console
        self.notes = notes
        self.embedder = embedder

    def _month_start(self) -> date:
        return (
            self.console.present.clock().astimezone(self.console.present.zone).date().replace(day=1)
        )

    async def page(self, request: Request) -> Response:
        """GET /staff/unplaced: the groups, and this month's count."""
        staff = await self.console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        if not may(staff.account.role, Permission.SEE_UNPLACED):
            return self.console._forbidden(staff)
        area = await run_in_threadpool(self.console.queue.area_of, staff.id)
        notes = await run_in_threadpool(self.notes.listed, staff.id, area=area)
        groups = await run_in_threadpool(grouped, notes, self.embedder)
        this_month = await run_in_threadpool(self.notes.count_since, self._month_start())
        present = self.console.present
        return self.console.render(
            "unplaced.html",
            staff,
            groups=[
                (g, [present.topic(t) for t in g.guessed], [self._chosen(t) for t in g.chosen])
                for g in groups
            ],
            this_month=shown_count(this_month),
            shown_count=shown_count,
            examples=EXAMPLES_SHOWN,
            reason=lambda value: self.console._t(REASON_KEYS[value]),
            day=lambda value: f"{value:%d.%m.%Y}",
            direction=present.direction,
        )

    def _chosen(self, value: str) -> str:
        if value == "other":
            return self.console._t(N_("console.unplaced.chosen.other"))
        return self.console.present.topic(value)

    def routes(self) -> list[BaseRoute]:
        """/staff/unplaced."""
        return [Route("/staff/unplaced", self.page, methods=["GET"])]
