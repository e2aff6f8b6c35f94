"""The child's own voice in the console (*min mening i ditt møte*): the question sets a leader
keeps at /staff/own-voice (per citizen language; a los reads them), the case page's
"Barnets egne ord" (what came back, grouped by round) with "Send spørsmål før møtet" for the
los who holds the case, and a printable page of the answers for the meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.console.kept_lists import KeptListPages
from bot.queue import CaseView, QueueError
from bot.staff import Permission, may
from bot.store.own_voice import Round
from bot.store.question_sets import (
    MAX_QUESTIONS,
    MAX_TEXT,
    MAX_TITLE,
    QuestionSet,
    QuestionSets,
    SetText,
)
from flows.effects import OwnVoiceOutcome
from flows.types import N_

if TYPE_CHECKING:
    from bot.console.app import Console
    from bot.console.guard import Staff

DEFAULT_QUESTIONS = (
    N_("ownvoice.default.important"),
    N_("ownvoice.default.adults_know"),
    N_("ownvoice.default.who_along"),
)
SAVED_KEYS = {
    "added": N_("console.ownvoice.done.added"),
    "changed": N_("console.ownvoice.done.changed"),
    "removed": N_("console.ownvoice.done.removed"),
}
STATUS_KEYS = {
    OwnVoiceOutcome.SENT: N_("console.ownvoice.status.sent"),
    OwnVoiceOutcome.ASKING: N_("console.ownvoice.status.asking"),
    OwnVoiceOutcome.DONE: N_("console.ownvoice.status.done"),
    OwnVoiceOutcome.STOPPED: N_("console.ownvoice.status.stopped"),
    OwnVoiceOutcome.NOT_STARTED: N_("console.ownvoice.status.not_started"),
}
FIELDS = ("id", "language", "title", "intro", "questions", "thanks")


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[: MAX_TEXT * (MAX_QUESTIONS + 1)] if isinstance(value, str) else ""


def question_lines(text: str) -> tuple[str, ...]:
    """The questions a leader wrote, one per line (empty lines left out)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class OwnVoicePages(KeptListPages):
    """The question sets' page, the case page's panel and action, and the printable page."""

    def __init__(self, console: Console, sets: QuestionSets, languages: tuple[str, ...]):
        self.console = console
        self.sets = sets
        self.languages = languages

    def seed(self) -> int:
        """The default set, once, in every citizen language (its name in the console's)."""
        t = self.console.present.catalogs
        title = self.console.present.t(N_("console.ownvoice.default_title"))
        return self.sets.seed(
            SetText(
                language,
                title,
                t(N_("ownvoice.default.intro"), language),
                tuple(t(key, language) for key in DEFAULT_QUESTIONS),
                t(N_("ownvoice.default.thanks"), language),
            )
            for language in self.languages
        )

    # --- the sets' page -------------------------------------------------------------------

    async def _render(
        self, staff: Staff, saved: str = "", error: str = "", kept: dict[str, str] | None = None
    ) -> Response:
        listed = await run_in_threadpool(self.sets.listed, None)
        present = self.console.present
        groups = [
            (code, present.language_name(code), [s for s in listed if s.language == code])
            for code in self.languages
        ]
        return self.console.render(
            "own_voice_sets.html",
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
            max_questions=MAX_QUESTIONS,
        )

    async def save(self, request: Request) -> Response:
        """POST /staff/own-voice: add a set (no id) or change one."""
        acting = await self._editor(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        fields = {k: _field(form, k) for k in FIELDS}
        text = SetText(
            fields["language"],
            fields["title"].strip(),
            fields["intro"].strip(),
            question_lines(fields["questions"]),
            fields["thanks"].strip(),
        )
        t = self.console._t
        if text.language not in self.languages or not all(
            (text.title, text.intro, text.questions, text.thanks)
        ):
            return await self._render(
                staff, error=t(N_("console.ownvoice.incomplete")), kept=fields
            )
        if (
            len(text.title) > MAX_TITLE
            or len(text.questions) > MAX_QUESTIONS
            or any(len(x) > MAX_TEXT for x in (text.intro, text.thanks, *text.questions))
        ):
            error = t(
                N_("console.ownvoice.too_long"), title=MAX_TITLE, text=MAX_TEXT, max=MAX_QUESTIONS
            )
            return await self._render(staff, error=error, kept=fields)
        set_id = int(fields["id"]) if fields["id"].isdigit() else None
        done: QuestionSet | None = await run_in_threadpool(self.sets.save, set_id, text, staff.id)
        if done is None:
            return await self._render(staff, error=t(N_("console.ownvoice.gone")))
        outcome = "added" if set_id is None else "changed"
        return RedirectResponse(f"/staff/own-voice?saved={outcome}#set-{done.id}", 303)

    async def remove(self, request: Request) -> Response:
        """POST /staff/own-voice/{id}/remove."""
        gone = N_("console.ownvoice.gone")
        return await self._remove(request, self.sets.remove, gone, "/staff/own-voice?saved=removed")

    # --- the case page --------------------------------------------------------------------

    def rounds(self, rounds: tuple[Round, ...]) -> list[dict[str, Any]]:
        """The rounds as the case page and the printable page show them."""
        p = self.console.present
        shown = []
        for r in rounds:
            total = len(r.answers)
            shown.append(
                {
                    "id": r.id,
                    "heading": p.t(
                        N_("console.ownvoice.round"),
                        title=r.title,
                        when=p.when(r.sent_at).absolute,
                        name=p.staff_name(r.sent_by),
                    ),
                    "meeting": (
                        p.t(N_("console.ownvoice.meeting"), when=p.when(r.meeting_at).absolute)
                        if r.meeting_at
                        else ""
                    ),
                    "status": p.t(STATUS_KEYS[r.status], answered=r.answered, total=total),
                    "lang": r.language,
                    "dir": p.direction(r.language),
                    "answers": [
                        {
                            "question": a.question,
                            "text": a.text,
                            "skipped": a.skipped,
                            "when": p.when(a.at) if a.at else None,
                        }
                        for a in r.answers
                    ],
                }
            )
        return shown

    async def panel(self, staff: Staff, view: CaseView) -> dict[str, Any]:
        """The case page's part: the rounds, and for the los who holds the case the sets in
        the case's language to send."""
        item = view.item
        mine = item.status == "claimed" and item.claimed_by == staff.id
        sets = await run_in_threadpool(self.sets.listed, item.language) if mine else []
        return {
            "own_voice": {
                "rounds": self.rounds(view.own_voice),
                "may_send": mine and may(staff.account.role, Permission.WORK_QUEUE),
                "sets": [(s.id, s.title) for s in sets],
            }
        }

    def _meeting(self, form: FormData) -> datetime | ValueError | None:
        """The meeting's time from the form (Oslo time), None when not given, or the error."""
        day, hour = _field(form, "meeting_date").strip(), _field(form, "meeting_time").strip()
        if not day and not hour:
            return None
        try:
            local = datetime.combine(date.fromisoformat(day), time.fromisoformat(hour))
        except ValueError as error:
            return error
        return local.replace(tzinfo=self.console.present.zone).astimezone(UTC)

    async def send(self, staff: Staff, reference: str, form: FormData) -> Response:
        """POST /staff/case/{reference}/own-voice (set, meeting_date, meeting_time)."""
        console, t = self.console, self.console._t
        from bot.console.app import Problem

        chosen = _field(form, "set").strip()
        if not chosen.isdigit():
            problem = Problem(t(N_("console.ownvoice.choose_first")))
            return await console._case(staff, reference, problem, 400)
        meeting = self._meeting(form)
        if isinstance(meeting, ValueError):
            problem = Problem(t(N_("console.ownvoice.bad_meeting")))
            return await console._case(staff, reference, problem, 400)
        try:
            await run_in_threadpool(self.sets.send, reference, staff.id, int(chosen), meeting)
        except QueueError:
            try:
                await run_in_threadpool(console.queue.view, reference, staff.id)
            except QueueError:
                return console._no_case(staff)
            problem = Problem(t(N_("console.ownvoice.refused")))
            return await console._case(staff, reference, problem, 409)
        return RedirectResponse(f"/staff/case/{reference}#own-voice", status_code=303)

    async def printable(self, request: Request) -> Response:
        """GET /staff/case/{reference}/own-voice: the child's own words to show in the
        meeting (reading it is audited as reading the case)."""
        console = self.console
        staff = await console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        if not may(staff.account.role, Permission.WORK_QUEUE):
            return console._forbidden(staff)
        reference = request.path_params["reference"]
        if len(reference) > 16 or not reference.isprintable():
            return console._no_case(staff)
        try:
            view = await run_in_threadpool(console.queue.view, reference, staff.id)
        except QueueError:
            return console._no_case(staff)
        return console.render(
            "own_voice_print.html",
            staff,
            reference=reference,
            rounds=self.rounds(view.own_voice),
        )

    def routes(self) -> list[BaseRoute]:
        """/staff/own-voice and its forms; the printable page of a case."""
        return [
            Route("/staff/own-voice", self.page, methods=["GET"]),
            Route("/staff/own-voice", self.save, methods=["POST"]),
            Route("/staff/own-voice/{set}/remove", self.remove, methods=["POST"]),
            Route("/staff/case/{reference}/own-voice", self.printable, methods=["GET"]),
        ]
