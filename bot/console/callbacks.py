"""Calls at a time that suits, in the console: "Dagens samtaler" (/staff/calls: the day's
booked calls with time, case, language and los, the free slots, and a form to publish a
series of slots), a call marked done, moved or cancelled (the citizen is told in their
language), and the booked time on the case page.

With areas, a member of staff sees and acts on their own area's slots and publishes there
(one of all areas picks the area); another area's slot is refused (403, audited)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.areas import ALL_AREAS, DEFAULT_AREA, Areas
from bot.callback_times import in_opening_hours, series
from bot.schedule import Schedule
from bot.settings import CallbackSettings
from bot.staff import Permission, may
from bot.store.areas import record_refusal
from bot.store.callbacks import GENERATED, Call, Callbacks, CallError
from bot.store.enums import OPEN_STATUSES
from flows.callback import WHEN_ANY, parse_stamp, stamp
from flows.types import N_
from flows.when import BABEL_LOCALE

if TYPE_CHECKING:
    from bot.console.app import Console
    from bot.console.guard import Staff

DONE_KEYS = {
    "published": N_("console.calls.published"),
    "done": N_("console.calls.done_ok"),
    "moved": N_("console.calls.moved_ok"),
    "cancelled": N_("console.calls.cancelled_ok"),
    "removed": N_("console.calls.removed_ok"),
}
ACTIONS = ("done", "move", "cancel", "remove")
MOVE_CHOICES = 24
"""At most this many free times are offered to move a call to."""


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:40].strip() if isinstance(value, str) else ""


def _count(said: Mapping[str, str], name: str) -> int:
    """A count a redirect said in its query (0 when it is not a small number)."""
    raw = said.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) <= 4 else 0


class CallPages:
    """/staff/calls and its forms, and the case page's part."""

    def __init__(
        self, console: Console, calls: Callbacks, schedule: Schedule, rules: CallbackSettings
    ) -> None:
        self.console = console
        self.calls = calls
        self.schedule = schedule
        self.rules = rules
        settings = console.queue.settings
        self.schedules: dict[str, Schedule] = (
            {area: Schedule(s) for area, s in Areas.of(settings).settings.items()}
            if settings.areas
            else {DEFAULT_AREA: schedule}
        )
        """Each area's schedule (its opening hours): where its slots may be published."""

    # --- whose --------------------------------------------------------------------------------

    def _own(self, staff: Staff) -> str:
        """The staff member's area (``all``: every area's; the only one without areas)."""
        return self.console.queue.area_of(staff.id)

    def _area(self, staff: Staff, asked: str) -> str | None:
        """The area shown or published to: one of all areas picks (None: every one, when
        only looking); anyone else has their own. ``PermissionError`` for another area."""
        own = self._own(staff)
        if own != ALL_AREAS:
            if asked and asked != own:
                raise PermissionError(asked)
            return own
        return asked if asked in self.schedules else None

    async def _refused(self, staff: Staff, what: str) -> Response:
        """403 for another area's slots, audited (what and whose, never a case's text)."""
        now = self.console.queue.clock()
        sessions = self.calls.sessions
        await run_in_threadpool(record_refusal, sessions, now, staff.id, what)
        return self.console._forbidden(staff)

    # --- the day's calls ------------------------------------------------------------------

    def _today(self) -> date:
        return self.schedule.local(self.console.queue.clock()).date()

    def _day_label(self, day: date) -> str:
        locale = BABEL_LOCALE.get(self.console.language, "nb_NO")
        return format_date(day, "EEEE d. MMMM y", locale=locale)

    def _row(self, call: Call, staff: Staff, free: list[tuple[str, str]]) -> dict[str, Any]:
        p, t = self.console.present, self.console._t
        local = self.schedule.local(call.starts_at)
        ends = local + timedelta(minutes=call.minutes)
        booked = call.reference is not None
        if call.done_at is not None:
            status = t(
                N_("console.calls.status.done"),
                when=p.when(call.done_at).absolute,
                name=p.staff_name(call.done_by or ""),
            )
        elif booked and call.status not in OPEN_STATUSES:
            status = t(N_("console.calls.status.ended"))
        elif booked:
            status = t(N_("console.calls.status.booked"))
        else:
            status = t(N_("console.calls.status.free"))
        open_call = booked and call.done_at is None and call.status in OPEN_STATUSES
        return {
            "id": call.slot_id,
            "time": f"{local:%H:%M}–{ends:%H:%M}",
            "iso": local.isoformat(timespec="minutes"),
            "reference": call.reference,
            "language": p.language_name(call.language) if call.language else "",
            "los": (
                p.staff_name(call.claimed_by)
                if call.claimed_by
                else t(N_("console.calls.unassigned"))
            ),
            "owner": (
                t(N_("console.calls.owner.roster"))
                if call.owner == GENERATED
                else p.staff_name(call.owner)
            ),
            "status": status,
            "done": call.done_at is not None,
            "may_act": open_call and may(staff.account.role, Permission.CALLBACKS),
            "may_remove": not booked and may(staff.account.role, Permission.CALLBACKS),
            "free": free,
            "area": self.console.area_names.get(call.area, ""),
        }

    async def page(self, request: Request) -> Response:
        """GET /staff/calls[?day=YYYY-MM-DD]: the day's calls and free slots."""
        console = self.console
        staff = await console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        if not may(staff.account.role, Permission.WORK_QUEUE):
            return console._forbidden(staff)
        try:
            day = date.fromisoformat(request.query_params.get("day", "")[:10])
        except ValueError:
            day = self._today()
        said = request.query_params
        try:
            area = self._area(staff, said.get("area", "")[:32])
        except PermissionError as asked:
            return await self._refused(staff, f"callbacks area={asked}")
        return await self._render(staff, day, area, done=said.get("done", ""), counts=said)

    async def _render(
        self,
        staff: Staff,
        day: date,
        area: str | None,
        *,
        done: str = "",
        counts: Mapping[str, str] | None = None,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        console, t = self.console, self.console._t
        start = datetime.combine(day, time(0), self.schedule.zone)
        listed = await run_in_threadpool(self.calls.between, start, start + timedelta(days=1), area)
        now = console.queue.clock()
        until = now + timedelta(days=self.rules.days_ahead)
        choices: dict[str, list[tuple[str, str]]] = {}
        for slot_area in sorted({c.area for c in listed if c.reference}):
            free = await run_in_threadpool(self.calls.free_after, now, until, slot_area)
            choices[slot_area] = [
                (stamp(s), console.present.when(s).absolute) for s in free[:MOVE_CHOICES]
            ]
        rows = [self._row(c, staff, choices.get(c.area, [])) for c in listed]
        seen = await run_in_threadpool(
            console.queue.visible, staff.id, [r["reference"] for r in rows if r["reference"]]
        )
        rows = [r for r in rows if not r["reference"] or r["reference"] in seen]  # own area's
        counts = counts or {}
        message = ""
        if done in DONE_KEYS:
            added, skipped = (_count(counts, "n"), _count(counts, "skipped"))
            message = t(DONE_KEYS[done], count=added)
            if done == "published" and skipped:
                message += " " + t(N_("console.calls.skipped"), count=skipped)
        today = self._today()
        title = (
            t(N_("console.calls.title"))
            if day == today
            else t(N_("console.calls.heading_day"), day=self._day_label(day))
        )
        return console.render(
            "calls.html",
            staff,
            status_code,
            title=title,
            day=day.isoformat(),
            day_label=self._day_label(day),
            previous=(day - timedelta(days=1)).isoformat(),
            following=(day + timedelta(days=1)).isoformat(),
            today=today.isoformat(),
            is_today=day == today,
            booked=[r for r in rows if r["reference"]],
            free=[r for r in rows if not r["reference"]],
            message=message,
            error=error,
            may_publish=may(staff.account.role, Permission.CALLBACKS),
            slot_minutes=self.rules.slot_minutes,
            area_choices=self.console.area_names if self._own(staff) == ALL_AREAS else {},
            area_chosen=area or "",
            area_name=self.console.area_names.get(area or "", ""),
        )

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, request: Request) -> Response:
        """POST /staff/calls: a series of slots on a day (day, from, to, every minutes); the
        times outside opening hours or on a public holiday are left out, and said so."""
        acting = await self.console._acting(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        if not may(staff.account.role, Permission.CALLBACKS):
            return self.console._forbidden(staff)
        try:
            day = date.fromisoformat(_field(form, "day"))
            start = time.fromisoformat(_field(form, "from"))
            end = time.fromisoformat(_field(form, "to"))
            every = int(_field(form, "every") or self.rules.slot_minutes)
        except ValueError:
            day, start, end, every = self._today(), time(0), time(0), 0
        try:
            area = self._area(staff, _field(form, "area")) or DEFAULT_AREA
        except PermissionError as asked:
            return await self._refused(staff, f"callbacks area={asked}")
        if not 5 <= every <= 240 or start >= end:
            error = self.console._t(N_("console.calls.bad_form"))
            return await self._render(staff, day, area, error=error, status_code=400)
        now = self.console.queue.clock()
        schedule = self.schedules.get(area, self.schedule)
        wanted = [s for s in series(schedule, day, start, end, every) if s > now]
        fitting = [s for s in wanted if in_opening_hours(schedule, s, every)]
        added = await run_in_threadpool(self.calls.publish, staff.id, fitting, every, area)
        skipped = len(wanted) - len(fitting)
        shown = f"&area={area}" if self.console.area_names else ""
        return RedirectResponse(
            f"/staff/calls?day={day.isoformat()}&done=published&n={added}&skipped={skipped}"
            + shown,
            303,
        )

    # --- one call -------------------------------------------------------------------------

    async def act(self, request: Request) -> Response:
        """POST /staff/calls/{slot}/{action}: done, move (to), cancel, or remove a free
        slot; back to the day (or to the case, ``back=case``)."""
        acting = await self.console._acting(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        if not may(staff.account.role, Permission.CALLBACKS):
            return self.console._forbidden(staff)
        raw, action = request.path_params["slot"], request.path_params["action"]
        if not raw.isdigit() or action not in ACTIONS:
            return Response(status_code=404)
        slot_id = int(raw)
        day = _field(form, "day")
        own = self._own(staff)
        slot_area = await run_in_threadpool(self.calls.area_of, slot_id)
        if slot_area is not None and own not in (ALL_AREAS, slot_area):
            return await self._refused(staff, f"callback slot {slot_id} area={slot_area}")
        try:
            if action == "remove":
                if not await run_in_threadpool(self.calls.remove, slot_id, staff.id):
                    raise CallError("not a free slot")
                reference = ""
            elif action == "done":
                reference = await run_in_threadpool(self.calls.mark_done, slot_id, staff.id)
            elif action == "cancel":
                reference = await run_in_threadpool(self.calls.cancel, slot_id, staff.id)
            else:
                to = parse_stamp(_field(form, "to"))
                if to is None:
                    raise CallError("no time chosen")
                reference = await run_in_threadpool(self.calls.move, slot_id, to, staff.id)
        except CallError:
            try:
                shown = date.fromisoformat(day)
            except ValueError:
                shown = self._today()
            error = self.console._t(N_("console.calls.refused"))
            mine = None if own == ALL_AREAS else own
            return await self._render(staff, shown, mine, error=error, status_code=409)
        if _field(form, "back") == "case" and reference:
            return RedirectResponse(f"/staff/case/{reference}#call", 303)
        done = {"remove": "removed", "cancel": "cancelled", "move": "moved"}.get(action, action)
        return RedirectResponse(f"/staff/calls?day={day}&done={done}", 303)

    # --- the case page --------------------------------------------------------------------

    async def panel(self, reference: str) -> dict[str, Any]:
        """The case page's part: the booked call (its time, whether done), or "any time"."""
        wish, call = await run_in_threadpool(self.calls.wish, reference)
        p, t = self.console.present, self.console._t
        if call is not None:
            local = self.schedule.local(call.starts_at)
            status = t(N_("console.calls.status.booked"))
            if call.done_at is not None:
                done, by = p.when(call.done_at).absolute, p.staff_name(call.done_by or "")
                status = t(N_("console.calls.status.done"), when=done, name=by)
            return {
                "call": {
                    "when": p.when(call.starts_at),
                    "status": status,
                    "day": local.date().isoformat(),
                }
            }
        if wish == WHEN_ANY:
            return {"call": {"when": None, "status": t(N_("console.calls.any")), "day": ""}}
        return {"call": None}

    def routes(self) -> list[BaseRoute]:
        """/staff/calls, its publish form and a call's actions."""
        return [
            Route("/staff/calls", self.page, methods=["GET"]),
            Route("/staff/calls", self.publish, methods=["POST"]),
            Route("/staff/calls/{slot}/{action}", self.act, methods=["POST"]),
        ]
