"""Saved answers in the console: the list per citizen language at /staff/answers (a leader
adds, changes and removes them; a los reads them), and the answers offered in a case's reply
box, in the case's language, with ``{los}`` and ``{kommune}`` filled in. Inserting one puts
its text into the reply box, where the los edits it before sending: nothing is ever sent
without her pressing Send."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.console.kept_lists import KeptListPages
from bot.staff import Permission, may
from bot.store.saved_answers import MAX_TEXT, MAX_TITLE, Answer, SavedAnswers
from flows.types import N_

if TYPE_CHECKING:
    from bot.console.app import Console
    from bot.console.guard import Staff

DEFAULTS = ("greeting", "callback", "meeting", "interpreter", "closing")
"""The saved answers a new installation starts with (catalog keys ``answer.<name>`` for the
text in every citizen language, ``console.answer.<name>`` for the title)."""
SAVED_KEYS = {
    "added": N_("console.answers.done.added"),
    "changed": N_("console.answers.done.changed"),
    "removed": N_("console.answers.done.removed"),
}
DEFAULT_KEYS = {
    "greeting": (N_("console.answer.greeting"), N_("answer.greeting")),
    "callback": (N_("console.answer.callback"), N_("answer.callback")),
    "meeting": (N_("console.answer.meeting"), N_("answer.meeting")),
    "interpreter": (N_("console.answer.interpreter"), N_("answer.interpreter")),
    "closing": (N_("console.answer.closing"), N_("answer.closing")),
}


def filled(text: str, los: str, municipality: str) -> str:
    """A saved answer's text with the los's name and the municipality's put in."""
    return text.replace("{los}", los).replace("{kommune}", municipality)


class AnswerPages(KeptListPages):
    """The saved-answers page and its forms, on top of the console's sign-in and pages."""

    def __init__(self, console: Console, answers: SavedAnswers, languages: tuple[str, ...]):
        self.console = console
        self.answers = answers
        self.languages = languages

    def seed(self) -> int:
        """The default answers, once, in every citizen language (titles in the console's)."""
        console = self.console
        return self.answers.seed(
            (language, console.present.t(title), console.present.catalogs(text, language))
            for language in self.languages
            for title, text in (DEFAULT_KEYS[name] for name in DEFAULTS)
        )

    async def for_case(self, staff: Staff, language: str) -> list[dict[str, Any]]:
        """The answers offered in a case's reply box: the case's language, filled in."""
        municipality = self.console.queue.settings.municipality.name
        listed = await run_in_threadpool(self.answers.listed, language)
        return [
            {"id": a.id, "title": a.title, "text": filled(a.text, staff.account.name, municipality)}
            for a in listed
        ]

    async def _render(
        self, staff: Staff, saved: str = "", error: str = "", kept: dict[str, str] | None = None
    ) -> Response:
        listed = await run_in_threadpool(self.answers.listed, None)
        present = self.console.present
        groups = [
            (code, present.language_name(code), [a for a in listed if a.language == code])
            for code in self.languages
        ]
        return self.console.render(
            "answers.html",
            staff,
            400 if error else 200,
            groups=groups,
            languages=[(code, present.language_name(code)) for code in self.languages],
            editable=may(staff.account.role, Permission.EDIT_ANSWERS),
            saved=self.console._t(SAVED_KEYS[saved]) if saved in SAVED_KEYS else "",
            error=error,
            kept=kept or {},
            when=present.when,
            max_title=MAX_TITLE,
            max_text=MAX_TEXT,
        )

    async def save(self, request: Request) -> Response:
        """POST /staff/answers: add one (no id) or change one."""
        acting = await self._editor(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        fields = {k: str(form.get(k) or "") for k in ("id", "language", "title", "text")}
        title, text = fields["title"].strip(), fields["text"].strip()
        if fields["language"] not in self.languages or not title or not text:
            error = self.console._t(N_("console.answers.incomplete"))
            return await self._render(staff, error=error, kept=fields)
        if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
            error = self.console._t(N_("console.answers.too_long"), title=MAX_TITLE, text=MAX_TEXT)
            return await self._render(staff, error=error, kept=fields)
        answer_id = int(fields["id"]) if fields["id"].isdigit() else None
        done: Answer | None = await run_in_threadpool(
            self.answers.save, answer_id, fields["language"], title, text, staff.id
        )
        if done is None:
            error = self.console._t(N_("console.answers.gone"))
            return await self._render(staff, error=error)
        outcome = "added" if answer_id is None else "changed"
        return RedirectResponse(f"/staff/answers?saved={outcome}#answer-{done.id}", 303)

    async def remove(self, request: Request) -> Response:
        """POST /staff/answers/{id}/remove."""
        gone = N_("console.answers.gone")
        return await self._remove(
            request, self.answers.remove, gone, "/staff/answers?saved=removed"
        )

    def routes(self) -> list[BaseRoute]:
        """/staff/answers and its forms."""
        return [
            Route("/staff/answers", self.page, methods=["GET"]),
            Route("/staff/answers", self.save, methods=["POST"]),
            Route("/staff/answers/{answer}/remove", self.remove, methods=["POST"]),
        ]
