"""A list a leader keeps and every los reads (the saved answers, the question sets before a
meeting): the page's guard, a leader's forms' guard, and removing an entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.staff import Permission, may

if TYPE_CHECKING:
    from bot.console.app import Console
    from bot.console.guard import Staff


class KeptListPages:
    """The parts of a leader-kept list's pages that do not depend on what it lists."""

    console: Console

    async def _render(
        self, staff: Staff, saved: str = "", error: str = "", kept: dict[str, str] | None = None
    ) -> Response:
        """The list's page (a problem said, a form's words kept); each list draws its own."""
        raise NotImplementedError

    async def page(self, request: Request) -> Response:
        """GET: the list, for everyone who works the queue (forms for a leader)."""
        staff = await self.console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        if not may(staff.account.role, Permission.WORK_QUEUE):
            return self.console._forbidden(staff)
        return await self._render(staff, request.query_params.get("saved", ""))

    async def _editor(self, request: Request) -> tuple[Staff, FormData] | Response:
        """A leader's POST with its form (CSRF checked), or the refusal."""
        acting = await self.console._acting(request)
        if isinstance(acting, Response):
            return acting
        if not may(acting[0].account.role, Permission.EDIT_ANSWERS):
            return self.console._forbidden(acting[0])
        return acting

    async def _remove(
        self, request: Request, remove: Callable[[int, str], bool], gone: str, back: str
    ) -> Response:
        """POST .../{id}/remove: ``remove(id, by)``; the page again saying ``gone`` when there
        was no such entry, else back to ``back``."""
        acting = await self._editor(request)
        if isinstance(acting, Response):
            return acting
        staff, _ = acting
        raw = str(next(iter(request.path_params.values()), ""))
        if not (raw.isdigit() and await run_in_threadpool(remove, int(raw), staff.id)):
            return await self._render(staff, error=self.console._t(gone))
        return RedirectResponse(back, 303)
