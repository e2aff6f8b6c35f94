"""The staff console's pages and actions: sign-in, the los queue, a case, sign-out.

Every view and action goes through the Queue, which audits it; switching duty, signing in
and out are audited too. Pages are Jinja2 templates (``bot/templates/console/``, escaped
automatically) with one local stylesheet and one small script; every text comes from the
catalogs in the console language (``console.language``, bokmål by default). The GET pages
change nothing but the audit entry (who read which case); the citizen's read receipt is a
POST, by the case page's own "mark as read" form or with the los's reply. Database work
runs on a thread pool, never on the event loop.

What a role may do is decided in ``bot.staff`` (``may``): the los and the leader work the
queue, a service member sees the cases they are invited to (``bot/console/invites.py``:
the familieteam) and writes notes there, an admin sees the accounts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.console.answers import AnswerPages
from bot.console.callbacks import CallPages
from bot.console.content import ContentPages
from bot.console.documents import DocumentDownload, listed
from bot.console.export import ArchiveDownload
from bot.console.figure_pages import FigurePages
from bot.console.guard import Guard, Staff
from bot.console.invites import CaseTeam
from bot.console.own_voice import OwnVoicePages
from bot.console.present import OUTCOME_KEYS, Presenter, isolate_numbers
from bot.console.trusted import author as trusted_author
from bot.console.trusted import panel as trusted_panel
from bot.console.unplaced import UnplacedPage
from bot.content import LiveContent
from bot.i18n import Catalogs
from bot.notifications import is_urgent
from bot.queue import AreaRefused, CaseView, Queue, QueueError, QueueItem
from bot.schedule import Schedule
from bot.settings import ALL_AREAS, DEFAULT_AREA, STAFF_ID_PATTERN
from bot.staff import Permission, Staffing, UnknownStaff, may
from bot.staff_auth import (
    MIN_PASSWORD_LENGTH,
    StaffSignIn,
    StartPasswords,
    WeakPassword,
    needs_upgrade,
    set_password,
    upgrade_password,
    verify_password,
)
from bot.store.accounts import StaffAccounts
from bot.store.callbacks import Callbacks
from bot.store.content import ContentStore
from bot.store.models import DeliveryStatus
from bot.store.notices import NoticeRecord
from bot.store.question_sets import QuestionSets
from bot.store.saved_answers import SavedAnswers
from bot.store.staff_records import StaffRecords
from bot.store.unplaced import UnplacedNotes
from flows.types import N_
from nlu.embeddings import Embedder

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOTICES_SHOWN = 10
POLL_S = 5
"""How often the open queue page asks /staff/queue.json what changed (console.js)."""
MAX_REFERENCE = 16
"""No case reference is longer (what is, or has a NUL, cannot even be written to the audit)."""
MAX_STAFF_ID = 64
MAX_FIELD = 10_000
"""Longest reply or outcome text taken from a form (longer is cut, never an error page)."""
ANNOUNCED_NOTICES = frozenset({"escalation", "urgent_escalation", "transferred"})
"""Notices the live queue announces itself (a new or newly urgent case is announced from the
case list already)."""
TRANSPORT_KEYS = {"email": N_("console.notice.email"), "sms": N_("console.notice.sms")}
HEADERS = {"Content-Security-Policy": "default-src 'self'", "Cache-Control": "no-store"}


def _plausible(reference: str) -> bool:
    """Whether a reference from a URL can be looked up at all: no case has a longer one or
    one with a NUL, which the database could not even compare or write to the audit."""
    return len(reference) <= MAX_REFERENCE and reference.isprintable()


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def _local_path(target: str) -> str:
    """Where to go after signing in: a console page of this site, nothing else."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff") or "\\" in target:
        return "/staff"
    if not target.isprintable() or len(target) > 200:
        return "/staff"
    return target


@dataclass(frozen=True)
class Problem:
    """Why an action on a case was not done, said as a sentence, and what to offer."""

    message: str
    kept_reply: str = ""
    offer_claim: bool = False
    kept_note: str = ""


class Console:
    """Routes for the staff console."""

    def __init__(
        self,
        queue: Queue,
        staffing: Staffing,
        records: StaffRecords,
        catalogs: Catalogs,
        password: StartPasswords | str | None,
        language: str | None = None,
        answers: SavedAnswers | None = None,
        unplaced: UnplacedNotes | None = None,
        embedder: Embedder | None = None,
        question_sets: QuestionSets | None = None,
        content: tuple[ContentStore, LiveContent] | None = None,
        callbacks: Callbacks | None = None,
        area_staffing: Mapping[str, Staffing] | None = None,
    ) -> None:
        self.queue = queue
        self.staffing = staffing
        self.area_staffing = area_staffing or {}
        """Each area's staffing (its roster): who is on duty there."""
        self.records = records
        accounts = staffing.accounts
        assert accounts is not None, "the console needs the staff accounts in the database"
        self.accounts: StaffAccounts = accounts
        settings = queue.settings
        self.language = language or settings.console.language
        self.sign_in = StaffSignIn(password)
        self.guard = Guard(self.accounts, settings.console, queue.clock)
        self.present = Presenter(
            catalogs,
            self.language,
            settings.municipality.timezone,
            queue.clock,
            staffing.name,
        )
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.team = CaseTeam(
            queue,
            staffing,
            self.present,
            lambda staff, reference, message, code: self._case(
                staff, reference, Problem(message), code
            ),
            self._no_case,
        )
        self.templates.filters["ltr_numbers"] = isolate_numbers
        self.answer_pages = (
            AnswerPages(self, answers, settings.languages.supported) if answers else None
        )
        self.archive = ArchiveDownload(self)
        self.unplaced_page = UnplacedPage(self, unplaced, embedder) if unplaced else None
        self.figure_pages = FigurePages(self)
        self.own_voice = (
            OwnVoicePages(self, question_sets, settings.languages.supported)
            if question_sets
            else None
        )
        self.documents = DocumentDownload(self)
        self.content_pages = ContentPages(self, *content) if content else None
        self.area_names: dict[str, str] = (
            {DEFAULT_AREA: settings.municipality.name, **{a.id: a.name for a in settings.areas}}
            if settings.areas
            else {}
        )
        """Area id -> name, when the installation has several (the queue's filter)."""
        self.calls = (
            CallPages(self, callbacks, Schedule(settings), settings.callbacks)
            if callbacks
            else None
        )

    # --- rendering ------------------------------------------------------------------------

    def _t(self, key: str, **params: object) -> str:
        return self.present.t(key, **params)

    def render(
        self,
        name: str,
        staff: Staff | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        page = self.templates.get_template(f"console/{name}").render(
            t=self._t,
            p=self.present,
            lang=self.language,
            staff=staff,
            staff_role=self.present.role(staff.account.role) if staff else "",
            works_queue=bool(staff and may(staff.account.role, Permission.WORK_QUEUE)),
            sees_unplaced=bool(
                self.unplaced_page and staff and may(staff.account.role, Permission.SEE_UNPLACED)
            ),
            sees_figures=bool(staff and may(staff.account.role, Permission.SEE_FIGURES)),
            edits_content=bool(
                self.content_pages and staff and may(staff.account.role, Permission.EDIT_CONTENT)
            ),
            sees_calls=bool(
                self.calls and staff and may(staff.account.role, Permission.WORK_QUEUE)
            ),
            **context,
        )
        return HTMLResponse(page, status_code=status_code, headers=HEADERS)

    def _no_case(self, staff: Staff) -> HTMLResponse:
        return self.render(
            "message.html",
            staff,
            404,
            title=self._t(N_("console.no_case")),
            message=self._t(N_("console.no_case.detail")),
        )

    # --- who is asking --------------------------------------------------------------------

    async def _signed_in(self, request: Request) -> Staff | Response:
        """The signed-in staff member of a GET page, or where to send them instead."""
        if self.guard.from_another_site(request):
            return Response(status_code=403)
        staff = await self.guard.staff(request)
        if staff is not None:
            return staff
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if self.guard.arrived_from_another_site(request):
            # A link in a notification e-mail: the SameSite=Strict cookie was left out of
            # this navigation. Go on from this page, which the browser sends it with.
            return self.render("bounce.html", None, target=_local_path(target))
        expired = "&expired=1" if self.guard.has_session_cookie(request) else ""
        return RedirectResponse(
            f"/staff/login?next={quote(_local_path(target), safe='/')}{expired}",
            status_code=303,
        )

    async def _acting(self, request: Request) -> tuple[Staff, FormData] | Response:
        """The signed-in staff member of a POST with its form, if it comes from our own page
        with the session's CSRF token; otherwise the refusal (nothing is done)."""
        if not self.guard.same_origin(request) or self.guard.from_another_site(request):
            return Response(status_code=403)
        staff = await self.guard.staff(request)
        if staff is None:
            return RedirectResponse("/staff/login?expired=1", status_code=303)
        form = await request.form()
        if not self.guard.csrf_ok(staff, _field(form, "csrf")):
            return self.render(
                "message.html",
                staff,
                403,
                title=self._t(N_("console.csrf.title")),
                message=self._t(N_("console.csrf.detail")),
            )
        return staff, form

    # --- sign-in and sign-out -------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        """The sign-in form."""
        if self.guard.from_another_site(request):
            return Response(status_code=403)
        target = _local_path(request.query_params.get("next", "/staff"))
        message = ""
        if request.query_params.get("expired"):
            message = self._t(N_("console.login.expired"), minutes=self.guard.settings.idle_minutes)
        elif request.query_params.get("signed_out"):
            message = self._t(N_("console.login.signed_out"))
        return self._login_form(request, target, message=message)

    def _login_form(
        self,
        request: Request,
        target: str,
        *,
        message: str = "",
        error: str = "",
        user: str = "",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        pre, new = self.guard.sign_in_secret(request)
        response = self.render(
            "login.html",
            None,
            status_code,
            next=target,
            message=message,
            error=error,
            user=user,
            csrf=self.guard.sign_in_token(pre),
        )
        if new:
            self.guard.set_sign_in_cookie(response, request, pre)
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    async def login(self, request: Request) -> Response:
        """Check the id and password (failures slow the address down), then a new session."""
        if not self.guard.same_origin(request) or self.guard.from_another_site(request):
            return Response(status_code=403)
        form = await request.form()
        target = _local_path(_field(form, "next") or "/staff")
        user = _field(form, "user").strip().lower()[:MAX_STAFF_ID]
        given = _field(form, "password")
        if not self.guard.sign_in_token_ok(request, _field(form, "csrf")):
            return self._login_form(
                request, target, error=self._t(N_("console.login.stale")), status_code=403
            )
        plausible = re.fullmatch(STAFF_ID_PATTERN, user) is not None  # no NUL to the database
        account = await run_in_threadpool(self.accounts.active, user) if plausible else None
        staff_id = account.id if account is not None else None
        address = request.client.host if request.client else None
        wait = self.sign_in.throttled(staff_id, address)
        if wait is not None:
            return self._login_form(
                request,
                target,
                error=self._t(N_("console.login.wait"), seconds=wait),
                user=user,
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        own_hash = None
        if staff_id is not None:
            own_hash = await run_in_threadpool(self.records.password_hash, staff_id)
        verdict = await run_in_threadpool(self.sign_in.verify, own_hash, staff_id, given)
        self.sign_in.record(staff_id, address, verdict is not None)
        if verdict is None or staff_id is None:
            return self._login_form(
                request,
                target,
                error=self._t(N_("console.login.wrong")),
                user=user,
                status_code=401,
            )
        if own_hash is not None and needs_upgrade(own_hash):
            await run_in_threadpool(
                upgrade_password, self.records, staff_id, given, self.queue.clock()
            )
        response = RedirectResponse(target, status_code=303)
        await self.guard.start(
            response, request, staff_id, with_start_password=verdict.with_start_password
        )
        return response

    async def logout(self, request: Request) -> Response:
        """Sign out (a POST with the CSRF token): the session ends on the server."""
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        staff, _ = acting
        response = RedirectResponse("/staff/login?signed_out=1", status_code=303)
        await self.guard.end(response, request, staff)
        return response

    async def password_page(self, request: Request) -> Response:
        """Set your own password (instead of the start password)."""
        staff = await self._signed_in(request)
        if isinstance(staff, Response):
            return staff
        return self.render("password.html", staff, minimum=MIN_PASSWORD_LENGTH)

    async def change_password(self, request: Request) -> Response:
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        current, new = _field(form, "current"), _field(form, "new")
        own_hash = await run_in_threadpool(self.records.password_hash, staff.id)
        if own_hash is None:
            right = self.sign_in.start.matches(staff.id, current)
        else:
            right = await run_in_threadpool(verify_password, current, own_hash)
        error = ""
        if not right:
            error = self._t(N_("console.password.wrong"))
        elif new != _field(form, "again"):
            error = self._t(N_("console.password.differ"))
        else:
            try:
                await run_in_threadpool(
                    set_password,
                    self.records,
                    staff.id,
                    new,
                    self.queue.clock(),
                    staff.session_hash,
                )
            except WeakPassword:
                error = self._t(N_("console.password.short"), minimum=MIN_PASSWORD_LENGTH)
        if error:
            return self.render(
                "password.html", staff, 400, minimum=MIN_PASSWORD_LENGTH, error=error
            )
        await run_in_threadpool(self.accounts.mark_own_password, staff.session_hash)
        return RedirectResponse("/staff?password=1", status_code=303)

    # --- the queue ------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        """The queue for the los and the leader; for others, what their role has."""
        staff = await self._signed_in(request)
        if isinstance(staff, Response):
            return staff
        role = staff.account.role
        if may(role, Permission.WORK_QUEUE):
            return await self._queue_page(request, staff)
        if may(role, Permission.SEE_ACCOUNTS):
            accounts = await run_in_threadpool(self.accounts.all)
            return self.render("accounts.html", staff, accounts=accounts)
        if may(role, Permission.SEE_INVITED):
            return self.render("invited.html", staff, **await self.team.home(staff))
        return self.render("no_cases.html", staff)

    def _chosen_area(self, request: Request, staff: Staff) -> str | None:
        """The area a member of staff of all areas chose to see (none: every area)."""
        chosen = request.query_params.get("area", "")
        if staff.account.area == ALL_AREAS and chosen in self.area_names:
            return chosen
        return None

    async def _queue_context(
        self, staff: Staff, *, audited: bool, area: str | None = None
    ) -> dict[str, Any]:
        """What the queue page shows (and its live updates): the cases (of the staff
        member's area, or the one chosen), the notices, who is on duty. ``audited`` for the
        page; the live feed writes nothing."""
        if audited:
            items = await run_in_threadpool(self.queue.open_cases, staff.id, area)
        else:
            items = await run_in_threadpool(self.queue.live, staff.id, area)
        notices = await run_in_threadpool(self.records.notices, staff.id, NOTICES_SHOWN)
        now = self.queue.clock()
        staffing = self.area_staffing.get(staff.account.area, self.staffing)  # her area's
        on_duty = await run_in_threadpool(staffing.on_duty_now, now)
        return {
            "items": [self._row(item, staff) for item in items],
            "notices": [self._notice(n) for n in notices],
            "on_duty": staff.id in on_duty,
            "on_duty_names": [self.staffing.name(s) for s in on_duty],
            "duty_areas": await run_in_threadpool(self._duty_by_area, staff, area, now),
        }

    def _duty_by_area(
        self, staff: Staff, chosen: str | None, now: datetime
    ) -> list[tuple[str, list[str]]]:
        """With areas: who is on duty now in each area the staff member sees (a leader of
        all: every area, or the one chosen), as (area name, names)."""
        if not self.area_names or not self.area_staffing:
            return []
        own = staff.account.area
        shown = [own] if own != ALL_AREAS else [chosen] if chosen else list(self.area_names)
        return [
            (
                self.area_names.get(area, area),
                [self.staffing.name(s) for s in self.area_staffing[area].on_duty_now(now)],
            )
            for area in shown
            if area in self.area_staffing
        ]

    async def _queue_page(self, request: Request, staff: Staff) -> Response:
        closed = request.query_params.get("closed", "")
        area = self._chosen_area(request, staff)
        return self.render(
            "queue.html",
            staff,
            **await self._queue_context(staff, audited=True, area=area),
            area_choices=self.area_names if staff.account.area == ALL_AREAS else {},
            area_chosen=area or "",
            closed=closed if _plausible(closed) else "",
            password_set=bool(request.query_params.get("password")),
            poll_s=POLL_S,
        )

    async def queue_feed(self, request: Request) -> Response:
        """GET /staff/queue.json: what the open queue page shows now, for console.js to put
        in place without a reload. Read only: it changes nothing, writes no audit entry and
        does not keep the session alive (a page left open still signs out when idle); no
        citizen text is in it. An ``If-None-Match`` with the current ETag gets a 304."""
        if self.guard.from_another_site(request):
            return Response(status_code=403)
        staff = await self.guard.staff(request, touch=False)
        if staff is None:
            return JSONResponse({"signed_out": True}, status_code=401, headers=HEADERS)
        if not may(staff.account.role, Permission.WORK_QUEUE):
            return JSONResponse({"forbidden": True}, status_code=403, headers=HEADERS)
        context = await self._queue_context(
            staff, audited=False, area=self._chosen_area(request, staff)
        )
        parts = {
            name: self.templates.get_template(f"console/queue_{name}.html").render(
                t=self._t, staff=staff, **context
            )
            for name in ("cases", "notices", "duty")
        }
        payload: dict[str, Any] = {
            "heading": self._t(N_("console.cases"), n=len(context["items"])),
            "cases": [
                {
                    "reference": row["reference"],
                    "urgent": row["urgent"],
                    "unread": row["unread"],
                    "open": row["open"],
                    "mine": row["mine"],
                    "new_text": row["new_text"],
                    "urgent_text": row["urgent_text"],
                    "unread_text": row["unread_text"],
                }
                for row in context["items"]
            ],
            "notices": [
                {
                    "id": n["id"],
                    "urgent": n["urgent"],
                    "reference": n["reference"],
                    "text": n["announce"],
                }
                for n in context["notices"]
                if n["announce"]
            ],
            "html": parts,
        }
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        headers = {**HEADERS, "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        payload["at"] = self.present.when(self.queue.clock()).absolute
        return JSONResponse(payload, headers=headers)

    def _row(self, item: QueueItem, staff: Staff) -> dict[str, Any]:
        p = self.present
        rules = self.queue.settings.queue
        danger = p.danger(item)
        what = danger if item.priority == "urgent" and danger else p.topic(item.topic)
        return {
            "open": item.status == "open",
            "waiting": p.waiting(item, rules.target_minutes, rules.urgent_target_minutes),
            "new_text": self._t(
                N_("console.live.new_urgent")
                if item.priority == "urgent"
                else N_("console.live.new"),
                reference=item.reference,
                what=what,
                channel=p.channel(item.channel),
            ),
            "urgent_text": self._t(N_("console.live.urgent"), reference=item.reference, what=what),
            "unread_text": self._t(
                N_("console.live.unread"), reference=item.reference, n=item.unread
            ),
            "reference": item.reference,
            "urgent": item.priority == "urgent",
            "priority": p.priority(item),
            "danger": p.danger(item),
            "came": p.when(item.created_at),
            "channel": p.channel(item.channel),
            "language": p.language_name(item.language),
            "topic": p.topic(item.topic),
            "consent": p.consent(item),
            "status": p.status(item, staff.id),
            "mine": item.claimed_by == staff.id,
            "unread": item.unread,
            "unreachable": item.unreachable,
            "area": self.area_names.get(item.area, item.area) if self.area_names else "",
        }

    def _notice(self, notice: NoticeRecord) -> dict[str, Any]:
        parts = []
        for d in notice.deliveries:
            if d.status is DeliveryStatus.SENT:
                status = self._t(N_("console.notice.sent"))
            elif d.status is DeliveryStatus.FAILED:
                status = self._t(N_("console.notice.failed"))
            elif d.attempts:
                status = self._t(N_("console.notice.retrying"), attempts=d.attempts)
            else:
                status = self._t(N_("console.notice.pending"))
            key = TRANSPORT_KEYS.get(d.transport)
            parts.append((self._t(key) if key else d.transport, status, d.status))
        kind = self.present.notice_kind(notice.kind)
        announce = ""
        if notice.kind in ANNOUNCED_NOTICES and notice.reference:
            announce = self._t(N_("console.live.notice"), kind=kind, reference=notice.reference)
        return {
            "id": notice.id,
            "announce": announce,
            "kind": kind,
            "reference": notice.reference,
            "when": self.present.when(notice.created_at),
            "urgent": is_urgent(notice.kind),
            "deliveries": parts,
            "failed": any(s is DeliveryStatus.FAILED for _, _, s in parts),
        }

    async def duty(self, request: Request) -> Response:
        """Switch yourself on or off duty for today."""
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        if not may(staff.account.role, Permission.WORK_QUEUE):
            return self._forbidden(staff)
        on = form.get("on") == "1"
        now = self.queue.clock()
        await run_in_threadpool(self.records.switch_duty, staff.id, on, self.staffing.day(now), now)
        return RedirectResponse("/staff", status_code=303)

    def _forbidden(self, staff: Staff) -> HTMLResponse:
        return self.render(
            "message.html",
            staff,
            403,
            title=self._t(N_("console.forbidden")),
            message=self._t(N_("console.forbidden.detail")),
        )

    # --- a case ---------------------------------------------------------------------------

    async def case_page(self, request: Request) -> Response:
        """One case: what it is about, the citizen's own words, the conversation, actions."""
        staff = await self._signed_in(request)
        if isinstance(staff, Response):
            return staff
        role = staff.account.role
        if not may(role, Permission.WORK_QUEUE) and not may(role, Permission.SEE_INVITED):
            return self._forbidden(staff)
        chosen = request.query_params.get("answer", "")
        return await self._case(staff, request.path_params["reference"], chosen_answer=chosen[:12])

    async def _case(
        self,
        staff: Staff,
        reference: str,
        problem: Problem | None = None,
        status_code: int = 200,
        chosen_answer: str = "",
    ) -> Response:
        if not _plausible(reference):
            return self._no_case(staff)
        try:
            view = await run_in_threadpool(self.queue.view, reference, staff.id)
        except AreaRefused:
            return self._forbidden(staff)
        except QueueError:
            return self._no_case(staff)
        colleagues = [
            (a.id, a.name, self.present.role(a.role))
            for a in await run_in_threadpool(self.staffing.colleagues)
            if a.id != staff.id
        ]
        answers = (
            await self.answer_pages.for_case(staff, view.item.language) if self.answer_pages else []
        )
        reply = problem.kept_reply if problem else ""
        if not reply and chosen_answer:
            # Without the script, "Sett inn" reloads the page with the answer in the box.
            reply = next((a["text"] for a in answers if str(a["id"]) == chosen_answer), "")
        return self.render(
            "case.html",
            staff,
            status_code,
            case=self._case_facts(view, staff),
            view=view,
            messages=self._timeline(view, staff.account.role),
            documents=listed(reference, view.documents, self.present, self._t),
            may_note=may(staff.account.role, Permission.ADD_NOTE)
            and view.item.status != "withdrawn",
            poll_s=POLL_S,
            words_lang=view.item.language,
            words_dir=self.present.direction(view.item.language),
            colleagues=colleagues,
            problem=problem,
            answers=answers,
            reply=reply,
            **await self.team.panel(staff, view),
            **trusted_panel(staff.account.role, view.participants, self.present, self._t),
            **(await self.own_voice.panel(staff, view) if self.own_voice else {"own_voice": None}),
            **(await self.calls.panel(reference) if self.calls else {"call": None}),
        )

    def _timeline(self, view: CaseView, role: str) -> list[dict[str, Any]]:
        """The conversation and the case log in one order (by time; a note written at the
        same moment as a message comes after it)."""
        p, language = self.present, view.item.language
        shown: list[tuple[Any, int, dict[str, Any]]] = []
        own_words = {a.message_id for r in view.own_voice for a in r.answers if a.message_id}
        for m in view.conversation:
            lang = p.message_language(m, language)
            shown.append(
                (
                    m.at,
                    0,
                    {
                        "sender": trusted_author(role, m, self._t) or p.sender(m.sender),
                        "kind": str(m.sender),
                        "when": p.when(m.at),
                        "text": m.text,
                        "lang": lang,
                        "dir": p.direction(lang),
                        "before_case": m.before_case,
                        "button": m.button,
                        "own_voice": m.id in own_words,
                    },
                )
            )
        for n in view.notes:
            shown.append(
                (
                    n.at,
                    1,
                    {
                        "sender": p.staff_name(n.author),
                        "kind": "note",
                        "when": p.when(n.at),
                        "text": n.text,
                        "lang": self.language,
                        "dir": "auto",
                        "before_case": False,
                        "button": False,
                    },
                )
            )
        for d in listed(view.item.reference, view.documents, p, self._t):
            # A document is stored at the moment of the reply to it: shown before that reply.
            shown.append((d["at"], -1, {**d, "kind": "document", "sender": p.sender("citizen")}))
        shown.sort(key=lambda entry: (entry[0], entry[1]))
        return [entry for _, _, entry in shown]

    def _case_facts(self, view: CaseView, staff: Staff) -> dict[str, Any]:
        item, p = view.item, self.present
        return {
            "reference": item.reference,
            "urgent": item.priority == "urgent",
            "priority": p.priority(item),
            "danger": p.danger(item),
            "status": p.status(item, staff.id),
            "open": item.status == "open",
            "mine": item.status == "claimed" and item.claimed_by == staff.id,
            "holder": p.staff_name(item.claimed_by) if item.claimed_by else "",
            "came": p.when(item.created_at),
            "channel": p.channel(item.channel),
            "language": p.language_name(item.language),
            "topic": p.topic(item.topic),
            "about": p.about(view.about),
            "age": p.age(view.age_band),
            "contact": p.contact(view.contact, view.callback),
            "consent": p.consent(item),
            "consent_records": p.consent_records(view.consents),
            "worries": [p.worry(w) for w in view.worries],
            "strengths": view.strengths,
            "unread": item.unread,
            "unreachable": item.unreachable,
            "previous": item.previous_reference,
            "preferred": p.staff_name(item.preferred_staff) if item.preferred_staff else "",
        }

    async def act(self, request: Request) -> Response:
        """POST claim / read / reply / typing / note / transfer / close; then back to the case. A
        reply marks the citizen's messages read first (the receipt goes before the answer)."""
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        reference, action = request.path_params["reference"], request.path_params["action"]
        needed = {
            "note": Permission.ADD_NOTE,
            "invite": Permission.INVITE,
            "uninvite": Permission.INVITE,
        }.get(action, Permission.WORK_QUEUE)
        if not may(staff.account.role, needed):
            # A service member writes notes, nothing else (the queue checks the invitation).
            return self._forbidden(staff)
        if not _plausible(reference):
            return self._no_case(staff)
        if may(staff.account.role, Permission.WORK_QUEUE):  # another area's case: refused
            try:
                await run_in_threadpool(self.queue.check_area, reference, staff.id)
            except AreaRefused:
                return self._forbidden(staff)
        handlers = {
            "claim": self._claim,
            "read": self._read,
            "reply": self._reply,
            "typing": self._typing,
            "note": self._note,
            "transfer": self._transfer,
            "close": self._close,
            "export": self.archive.export,  # bot/console/export.py
            **({"own-voice": self.own_voice.send} if self.own_voice else {}),
            "invite": self.team.invite,
            "uninvite": self.team.uninvite,
        }
        handler = handlers.get(action)
        if handler is None:
            return Response(status_code=404)
        return await handler(staff, reference, form)

    async def _claim(self, staff: Staff, reference: str, form: FormData) -> Response:
        try:
            won = await run_in_threadpool(self.queue.claim, reference, staff.id)
        except QueueError:
            return self._no_case(staff)
        if not won:
            problem = await self._why_not(staff, reference, taking=True)
            return await self._case(staff, reference, problem, 409)
        return RedirectResponse(f"/staff/case/{reference}", status_code=303)

    async def _typing(self, staff: Staff, reference: str, form: FormData) -> Response:
        """The los is writing a reply (console.js says so every few seconds while she types):
        204, or 409 when the case is not hers (nothing is shown to the citizen then)."""
        try:
            await run_in_threadpool(self.queue.typing, reference, staff.id)
        except QueueError:
            return Response(status_code=409)
        return Response(status_code=204)

    async def _read(self, staff: Staff, reference: str, form: FormData) -> Response:
        try:
            await run_in_threadpool(self.queue.mark_read, reference, staff.id)
        except QueueError:
            return self._no_case(staff)
        return RedirectResponse(f"/staff/case/{reference}", status_code=303)

    async def _why_not(
        self, staff: Staff, reference: str, reply: str = "", *, taking: bool = False
    ) -> Problem:
        """Why the los cannot act on the case now (``taking``: take it), and what she can
        do."""
        try:
            item = (await run_in_threadpool(self.queue.view, reference, staff.id)).item
        except QueueError:
            return Problem(self._t(N_("console.no_case")), reply)
        if item.status == "open":
            return Problem(self._t(N_("console.problem.not_claimed")), reply, offer_claim=True)
        if item.status == "claimed" and item.claimed_by != staff.id:
            name = self.present.staff_name(item.claimed_by or "")
            if taking:
                return Problem(self._t(N_("console.problem.taken_first"), name=name))
            return Problem(self._t(N_("console.problem.claimed_by"), name=name), reply)
        if item.status in ("closed", "withdrawn"):
            return Problem(self._t(N_("console.problem.closed")), reply)
        return Problem(self._t(N_("console.problem.unknown")), reply)

    async def _reply(self, staff: Staff, reference: str, form: FormData) -> Response:
        text = _field(form, "text")
        if not text.strip():
            problem = Problem(self._t(N_("console.problem.empty_reply")))
            return await self._case(staff, reference, problem, 400)
        if form.get("claim") == "1":  # "Ta saken og send": take it first (if still open)
            try:
                await run_in_threadpool(self.queue.claim, reference, staff.id)
            except QueueError:
                return self._no_case(staff)
        try:
            await run_in_threadpool(self.queue.mark_read, reference, staff.id)
            await run_in_threadpool(self.queue.reply, reference, staff.id, text)
        except QueueError:
            problem = await self._why_not(staff, reference, text)
            return await self._case(staff, reference, problem, 409)
        return RedirectResponse(f"/staff/case/{reference}#reply", status_code=303)

    async def _note(self, staff: Staff, reference: str, form: FormData) -> Response:
        """A note in the case log: for colleagues, never sent to the citizen."""
        text = _field(form, "note")
        if not text.strip():
            problem = Problem(self._t(N_("console.note.empty")))
            return await self._case(staff, reference, problem, 400)
        try:
            await run_in_threadpool(self.queue.add_note, reference, staff.id, text)
        except QueueError:
            try:
                await run_in_threadpool(self.queue.view, reference, staff.id)
            except QueueError:
                return self._no_case(staff)
            problem = Problem(self._t(N_("console.note.refused")), kept_note=text)
            return await self._case(staff, reference, problem, 409)
        return RedirectResponse(f"/staff/case/{reference}#notes", status_code=303)

    async def _transfer(self, staff: Staff, reference: str, form: FormData) -> Response:
        to = _field(form, "to").strip()[:MAX_STAFF_ID]
        if not to or to == staff.id:
            problem = Problem(self._t(N_("console.problem.choose_colleague")))
            return await self._case(staff, reference, problem, 400)
        colleagues = {a.id for a in await run_in_threadpool(self.staffing.colleagues)}
        if to not in colleagues:
            problem = Problem(self._t(N_("console.problem.unknown_colleague"), who=to))
            return await self._case(staff, reference, problem, 400)
        try:
            await run_in_threadpool(self.queue.transfer, reference, staff.id, to)
        except (QueueError, UnknownStaff):
            return await self._case(staff, reference, await self._why_not(staff, reference), 409)
        return RedirectResponse(f"/staff/case/{reference}", status_code=303)

    async def _close(self, staff: Staff, reference: str, form: FormData) -> Response:
        """Closing asks first: the confirmation page (outcome from a list, plus words); only
        its own POST (``confirm=yes``) closes."""
        outcome, words = _field(form, "outcome"), _field(form, "words").strip()
        if (
            form.get("confirm") != "yes"
            or outcome not in OUTCOME_KEYS
            or (outcome == "other" and not words)
        ):
            try:
                view = await run_in_threadpool(self.queue.view, reference, staff.id)
            except QueueError:
                return self._no_case(staff)
            if not (view.item.status == "claimed" and view.item.claimed_by == staff.id):
                return await self._case(
                    staff, reference, await self._why_not(staff, reference), 409
                )
            error = ""
            if form.get("confirm") == "yes":
                error = self._t(
                    N_("console.close.need_words")
                    if outcome == "other"
                    else N_("console.close.need_outcome")
                )
            return self.render(
                "close.html",
                staff,
                400 if error else 200,
                case=self._case_facts(view, staff),
                outcomes=self.present.outcomes(),
                chosen=outcome,
                words=words,
                error=error,
            )
        stored = f"{outcome}: {words}" if words else outcome
        try:
            await run_in_threadpool(self.queue.close, reference, staff.id, stored)
        except QueueError:
            return await self._case(staff, reference, await self._why_not(staff, reference), 409)
        return RedirectResponse(f"/staff?closed={reference}", status_code=303)

    def routes(self) -> list[BaseRoute]:
        """The console's routes under /staff."""
        return [
            Route("/staff", self.home),
            Route("/staff/login", self.login_page, methods=["GET"]),
            Route("/staff/login", self.login, methods=["POST"]),
            Route("/staff/logout", self.logout, methods=["POST"]),
            Route("/staff/password", self.password_page, methods=["GET"]),
            Route("/staff/password", self.change_password, methods=["POST"]),
            Route("/staff/duty", self.duty, methods=["POST"]),
            Route("/staff/queue.json", self.queue_feed, methods=["GET"]),
            Route("/staff/case/{reference}", self.case_page),
            Route("/staff/case/{reference}/document/{document}", self.documents.fetch),
            Route("/staff/case/{reference}/{action}", self.act, methods=["POST"]),
            *(self.answer_pages.routes() if self.answer_pages else []),
            *(self.unplaced_page.routes() if self.unplaced_page else []),
            *self.figure_pages.routes(),
            *(self.own_voice.routes() if self.own_voice else []),
            *(self.content_pages.routes() if self.content_pages else []),
            *(self.calls.routes() if self.calls else []),
        ]
