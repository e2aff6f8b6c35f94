"""The staff console: the los queue in a browser (the same operations as `inngang queue`).

Staff sign in with HTTP Basic: their roster id and their own password (`inngang staff
password <id>`, kept as a scrypt hash); staff without one use the shared console password
(INNGANG_STAFF_PASSWORD; a random one is printed at start when unset). Failed sign-ins slow
down the client address they come from (429 with Retry-After), never lock an account (see
StaffSignIn). Every view and action goes through the Queue, so it is audited; switching
duty is audited too. Citizen text is always escaped. Texts come from the catalogs in the
console language (`console_language`, bokmål by default).

Cross-site requests get nothing: a POST must carry an Origin (or Referer) of this host, and
a request another site's page makes (an image, a frame, a fetch; told by the browser's
Sec-Fetch-* headers) is refused, so nobody's page can make a signed-in los's browser act or
read. The GET pages change nothing but the audit entry (who read which case, required); the
citizen's read receipt is a POST, by the case page's own "mark as read" form or with the
los's reply. Database work runs on a thread pool, never on the event loop. A link from a
notification e-mail (a cross-site navigation the los clicks) still opens the case.
"""

from __future__ import annotations

import base64
import binascii
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.i18n import Catalogs
from bot.notifications import is_urgent
from bot.notify_dispatch import DANGER_KEYS, KIND_KEYS
from bot.queue import Queue, QueueError, QueueItem
from bot.staff import Staffing, UnknownStaff
from bot.staff_auth import StaffSignIn
from bot.store.models import DeliveryStatus
from bot.store.notices import NoticeRecord
from bot.store.staff_records import StaffRecords
from flows.types import N_

CRISIS_KEYS = DANGER_KEYS
NOTICES_SHOWN = 10
REFRESH_S = 10
MAX_REFERENCE = 16
"""No case reference is longer (what is, or has a NUL, cannot even be written to the audit)."""
TRANSPORT_KEYS = {"email": N_("console.notice.email"), "sms": N_("console.notice.sms")}


def _plausible(reference: str) -> bool:
    """Whether a reference from a URL can be looked up at all: no case has a longer one or
    one with a NUL, which the database could not even compare or write to the audit."""
    return len(reference) <= MAX_REFERENCE and reference.isprintable()


class Console:
    """Routes for the staff console."""

    def __init__(
        self,
        queue: Queue,
        staffing: Staffing,
        records: StaffRecords,
        catalogs: Catalogs,
        password: str | None,
        language: str = "nb",
    ) -> None:
        self.queue = queue
        self.staffing = staffing
        self.records = records
        self.t = catalogs
        self.sign_in = StaffSignIn(password)
        self.language = language

    async def _staff(self, request: Request) -> str | Response:
        """The signed-in staff member, or the response to give instead: 401 (sign in), 429
        (wait, with Retry-After), 403 (a request made by another site's page)."""
        if self._from_another_site(request):
            return Response(status_code=403)
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return self._challenge()
        try:
            user, _, given = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return self._challenge()
        try:
            staff: str | None = self.staffing.require(user)
        except UnknownStaff:
            staff = None
        address = request.client.host if request.client else None
        own_hash = None
        if staff is not None:
            own_hash = await run_in_threadpool(self.records.password_hash, staff)
        result = self.sign_in.attempt(own_hash, staff, given, address)
        if result.retry_after is not None:
            return Response(
                "Too many failed sign-ins from this address; try again later.\n",
                status_code=429,
                headers={"Retry-After": str(result.retry_after), "Cache-Control": "no-store"},
            )
        return result.staff if result.staff is not None else self._challenge()

    @staticmethod
    def _from_another_site(request: Request) -> bool:
        """A request another site's page made (not the los following a link): an image, a
        frame, a script, a fetch. Browsers say so in Sec-Fetch-*; old ones send none."""
        site = request.headers.get("sec-fetch-site")
        if site is None or site in ("same-origin", "none"):
            return False
        return not (
            request.headers.get("sec-fetch-mode") == "navigate"
            and request.headers.get("sec-fetch-dest", "document") == "document"
            and request.method == "GET"
        )

    def _text(self, key: str, **params: object) -> str:
        return escape(self.t(key, self.language, **params))

    def _priority(self, item: QueueItem) -> str:
        """The priority with the kind of danger, so the los knows why at a glance."""
        kind = CRISIS_KEYS.get(item.crisis or "")
        return escape(item.priority) + (f": {self._text(kind)}" if kind else "")

    def _page(self, title: str, body: str, refresh_s: int | None = None) -> HTMLResponse:
        refresh = f'<meta http-equiv="refresh" content="{refresh_s}">' if refresh_s else ""
        return HTMLResponse(
            f'<!doctype html><html lang="{self.language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}'
            f'<title>{title}</title><link rel="stylesheet" href="/static/console.css">'
            f"</head><body>{body}</body></html>",
            headers={"Content-Security-Policy": "default-src 'self'", "Cache-Control": "no-store"},
        )

    def _no_case(self) -> HTMLResponse:
        return self._page("404", f"<p>{self._text(N_('console.no_case'))}</p>")

    def _challenge(self) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="Inngang"'})

    def _same_origin(self, request: Request) -> bool:
        """A POST must say it comes from a page of this host (Origin, else Referer); one
        that says nothing is refused ("null" from a sandbox or a no-referrer page too)."""
        origin = request.headers.get("origin") or request.headers.get("referer") or ""
        host = request.headers.get("host", "")
        return bool(origin and host) and urlsplit(origin).netloc == host

    def _row(self, item: QueueItem) -> str:
        mode = (
            self._text(N_("console.anonymous"))
            if item.anonymous
            else escape(item.consent_scope or "-")
        )
        flags = " ⚠ " + self._text(N_("console.unreachable")) if item.unreachable else ""
        css = ' class="urgent"' if item.priority == "urgent" else ""
        return (
            f'<tr{css}><td><a href="/staff/case/{escape(item.reference)}">'
            f"{escape(item.reference)}</a></td><td>{self._priority(item)}</td>"
            f"<td>{item.waiting_minutes}</td><td>{escape(item.channel)}</td>"
            f"<td>{escape(item.language)}</td><td>{escape(item.topic or '-')}</td>"
            f"<td>{mode}</td><td>{escape(item.claimed_by or '-')}{flags}</td></tr>"
        )

    def _delivery(self, notice: NoticeRecord) -> str:
        """Each transport's status: sent, waiting (with attempts), not delivered."""
        parts = []
        for d in notice.deliveries:
            if d.status is DeliveryStatus.SENT:
                status = self._text(N_("console.notice.sent"))
            elif d.status is DeliveryStatus.FAILED:
                status = f'<strong>{self._text(N_("console.notice.failed"))}</strong>'
            elif d.attempts:
                status = self._text(N_("console.notice.retrying"), attempts=d.attempts)
            else:
                status = self._text(N_("console.notice.pending"))
            key = TRANSPORT_KEYS.get(d.transport)
            parts.append(f"{self._text(key) if key else escape(d.transport)}: {status}")
        return ", ".join(parts) or self._text(N_("console.notice.console_only"))

    def _notices(self, notices: list[NoticeRecord]) -> str:
        """The signed-in staff member's latest notices with their delivery, urgent marked."""
        zone = ZoneInfo(self.queue.settings.municipality.timezone)
        rows = []
        for notice in notices:
            kind = KIND_KEYS.get(notice.kind)
            local = notice.created_at.astimezone(zone)
            reference = (
                f'<a href="/staff/case/{escape(notice.reference)}">{escape(notice.reference)}</a>'
                if notice.reference
                else "-"
            )
            when = self._text(
                N_("console.notice.at"), date=f"{local:%d.%m.}", time=f"{local:%H:%M}"
            )
            css = ' class="urgent"' if is_urgent(notice.kind) else ""
            rows.append(
                f"<tr{css}><td>{self._text(kind) if kind else escape(notice.kind)}</td>"
                f"<td>{reference}</td><td>{when}</td><td>{self._delivery(notice)}</td></tr>"
            )
        heads = "".join(
            f"<th>{self._text(k)}</th>"
            for k in (
                N_("console.notice.col.kind"),
                N_("console.notice.col.reference"),
                N_("console.notice.col.time"),
                N_("console.notice.col.delivery"),
            )
        )
        body = "".join(rows) or (
            f'<tr><td colspan="4">{self._text(N_("console.notice.none"))}</td></tr>'
        )
        return (
            f'<h2>{self._text(N_("console.notices"))}</h2>'
            f'<table class="notices"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>'
        )

    async def queue_page(self, request: Request) -> Response:
        """The open cases, urgent first, then by waiting time."""
        staff = await self._staff(request)
        if isinstance(staff, Response):
            return staff
        items = await run_in_threadpool(self.queue.open_cases, staff)
        notices = await run_in_threadpool(self.records.notices, staff, NOTICES_SHOWN)
        heads = "".join(
            f"<th>{self._text(k)}</th>"
            for k in (
                N_("console.col.reference"),
                N_("console.col.priority"),
                N_("console.col.waiting"),
                N_("console.col.channel"),
                N_("console.col.language"),
                N_("console.col.topic"),
                N_("console.col.consent"),
                N_("console.col.claimed"),
            )
        )
        rows = "".join(self._row(i) for i in items) or (
            f'<tr><td colspan="8">{self._text(N_("console.empty"))}</td></tr>'
        )
        body = (
            f"<h1>{self._text(N_('console.title'))}</h1>"
            f"<p>{self._text(N_('console.signed_in'), staff=staff)}</p>"
            f'<form method="post" action="/staff/duty"><button name="on" value="1">'
            f'{self._text(N_("console.duty_on"))}</button><button name="on" value="0">'
            f"{self._text(N_('console.duty_off'))}</button></form>"
            f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>"
            f"{self._notices(notices)}"
        )
        return self._page(self._text(N_("console.title")), body, refresh_s=REFRESH_S)

    async def case_page(self, request: Request) -> Response:
        """One case: the intake, the citizen's own words, the conversation, the actions."""
        staff = await self._staff(request)
        if isinstance(staff, Response):
            return staff
        reference = request.path_params["reference"]
        try:
            if not _plausible(reference):
                raise QueueError(reference)
            view = await run_in_threadpool(self.queue.view, reference, staff)
        except QueueError:
            return self._no_case()
        item = view.item
        words = "".join(f'<p class="words" dir="auto">{escape(w)}</p>' for w in view.description)
        talk = "".join(
            f"<p><b>{escape(sender)}</b> <small>{escape(when)}</small><br>"
            f'<span class="words" dir="auto">{escape(text)}</span></p>'
            for when, sender, text in view.messages
        )
        action = f"/staff/case/{escape(reference)}"
        facts = self._text(
            N_("console.case_facts"),
            channel=item.channel,
            language=item.language,
            topic=item.topic or "-",
            about=view.about or "-",
            age=view.age_band or "-",
            contact=view.contact or "-",
        )
        outcome, transfer_to = (
            self._text(N_("console.outcome")),
            self._text(N_("console.transfer_to")),
        )
        reply_label = self._text(N_("console.reply"))
        mark_read = (
            f'<form method="post" action="{action}/read"><button>'
            f"{self._text(N_('console.mark_read'))}</button></form>"
            if item.claimed_by == staff and item.unread
            else ""
        )
        body = (
            f'<p><a href="/staff">← {self._text(N_("console.title"))}</a></p>'
            f"<h1>{escape(reference)} ({escape(item.status)}, {self._priority(item)})</h1>"
            f"<p>{facts}"
            f"{(' – ' + escape(view.callback)) if view.callback else ''}</p>"
            f"<h2>{self._text(N_('console.words'))}</h2>{words}"
            f"<h2>{self._text(N_('console.conversation'))}</h2>{talk or '-'}{mark_read}"
            f'<form method="post" action="{action}/claim"><button>'
            f"{self._text(N_('console.claim'))}</button></form>"
            f'<form method="post" action="{action}/reply" style="display:block">'
            f'<label for="text">{reply_label}</label><textarea id="text" name="text" dir="auto">'
            f"</textarea><button>{reply_label}</button></form>"
            f'<form method="post" action="{action}/close"><label>{outcome} '
            f'<input name="outcome" required></label><button>{self._text(N_("console.close"))}'
            f"</button></form>"
            f'<form method="post" action="{action}/transfer"><label>{transfer_to} '
            f'<input name="to" required></label><button>{self._text(N_("console.transfer"))}'
            f"</button></form>"
        )
        return self._page(escape(reference), body)

    async def act(self, request: Request) -> Response:
        """POST claim / read / reply / close / transfer; then back to the case. A reply
        marks the citizen's messages read first (the receipt goes before the answer)."""
        if not self._same_origin(request):
            return Response(status_code=403)
        staff = await self._staff(request)
        if isinstance(staff, Response):
            return staff
        reference, action = request.path_params["reference"], request.path_params["action"]
        if not _plausible(reference):
            return self._no_case()
        form = await request.form()
        queue = self.queue
        try:
            if action == "claim":
                await run_in_threadpool(queue.claim, reference, staff)
            elif action == "read":
                await run_in_threadpool(queue.mark_read, reference, staff)
            elif action == "reply":
                await run_in_threadpool(queue.mark_read, reference, staff)
                await run_in_threadpool(queue.reply, reference, staff, str(form.get("text", "")))
            elif action == "close":
                await run_in_threadpool(queue.close, reference, staff, str(form.get("outcome", "")))
                return RedirectResponse("/staff", status_code=303)
            elif action == "transfer":
                await run_in_threadpool(queue.transfer, reference, staff, str(form.get("to", "")))
            else:
                return Response(status_code=404)
        except (QueueError, UnknownStaff) as error:
            return self._page(
                "!",
                f'<p>{escape(str(error))}</p><p><a href="/staff/case/'
                f'{escape(reference)}">←</a></p>',
            )
        return RedirectResponse(f"/staff/case/{reference}", status_code=303)

    async def duty(self, request: Request) -> Response:
        """Switch yourself on or off duty for today."""
        if not self._same_origin(request):
            return Response(status_code=403)
        staff = await self._staff(request)
        if isinstance(staff, Response):
            return staff
        form = await request.form()
        on = form.get("on") == "1"
        now = self.queue.clock()
        await run_in_threadpool(self.records.switch_duty, staff, on, self.staffing.day(now), now)
        return RedirectResponse("/staff", status_code=303)

    def routes(self) -> list[BaseRoute]:
        """The console's routes under /staff."""
        return [
            Route("/staff", self.queue_page),
            Route("/staff/duty", self.duty, methods=["POST"]),
            Route("/staff/case/{reference}", self.case_page),
            Route("/staff/case/{reference}/{action}", self.act, methods=["POST"]),
        ]
