"""The familieteam in the console: the los brings service members into a case and takes them
out again; a service member's own page lists the cases they are invited to.

The rules (who may invite whom into which case) are the queue's; here they are said as
people say them, in the console language. A refusal is a sentence on the case page; a case
the staff member may not see is the same "no such case" page as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from bot.console.guard import Staff
from bot.console.present import STATUS_KEYS, Presenter
from bot.queue import CaseView, InvitedCase, InviteRefusal, InviteRefused, Queue, QueueError
from bot.staff import Permission, Role, Staffing, UnknownStaff, may
from flows.types import N_

MAX_STAFF_ID = 64
REFUSAL_KEYS = {
    InviteRefusal.ENDED: N_("console.invite.refused.ended"),
    InviteRefusal.ANONYMOUS: N_("console.invite.refused.anonymous"),
    InviteRefusal.LOS_ONLY: N_("console.invite.refused.los_only"),
    InviteRefusal.NOT_HOLDER: N_("console.invite.refused.not_holder"),
    InviteRefusal.NOT_SERVICE: N_("console.invite.refused.not_service"),
    InviteRefusal.NOT_INVITED: N_("console.invite.refused.not_invited"),
}
"""What the console says when an invitation (or its removal) is refused. The CLI's own
reasons (no member, which member) cannot happen here: the form names the member."""

ShowCase = Callable[[Staff, str, str, int], Awaitable[Response]]
"""The case page again, with a problem said at the top and the status code."""


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_STAFF_ID] if isinstance(value, str) else ""


class CaseTeam:
    """The familieteam's part of the console: the case page's panel and its two actions,
    and a service member's list of cases."""

    def __init__(
        self,
        queue: Queue,
        staffing: Staffing,
        present: Presenter,
        show_case: ShowCase,
        no_case: Callable[[Staff], Response],
    ) -> None:
        self.queue = queue
        self.staffing = staffing
        self.present = present
        self.show_case = show_case
        self.no_case = no_case

    def service_name(self, service: str | None) -> str:
        """A service as people say it ("PPT (pedagogisk-psykologisk tjeneste)")."""
        if service is None:
            return self.present.t(N_("console.none"))
        key = f"service.{service}.name"
        name = self.present.catalogs.lookup(key, self.present.language)
        return name if name != key else service

    def refusal(self, refused: InviteRefused, who: str = "") -> str:
        """Why it was refused, as a sentence (``who``: the member named, if it is about them)."""
        key = REFUSAL_KEYS.get(refused.reason, N_("console.problem.unknown"))
        return self.present.t(key, who=who)

    # --- a service member's own page ---------------------------------------------------

    async def home(self, staff: Staff) -> dict[str, Any]:
        """The cases the service member is invited to (audited), as their page lists them."""
        cases: list[InvitedCase] = await run_in_threadpool(self.queue.invited_cases, staff.id)
        p = self.present
        return {
            "cases": [
                {
                    "reference": c.reference,
                    "urgent": c.urgent,
                    "topic": p.topic(c.topic),
                    "status": self._status(c),
                    "by": p.staff_name(c.invited_by),
                    "since": p.when(c.invited_at),
                }
                for c in cases
            ]
        }

    def _status(self, case: InvitedCase) -> str:
        p = self.present
        if case.holder:
            return p.t(N_("console.status.claimed_by"), name=p.staff_name(case.holder))
        return p.t(STATUS_KEYS.get(case.status, N_("console.unknown")), value=case.status)

    # --- the case page's panel, for the los -------------------------------------------

    async def panel(self, staff: Staff, view: CaseView) -> dict[str, Any]:
        """The familieteam on a case page: who is invited (name, service, since when), and
        for the los who holds it (or a leader) the invite form and remove buttons, or why
        nobody can be invited. Nothing for a service member."""
        role = staff.account.role
        if not may(role, Permission.INVITE):
            return {"team": None}
        item, p = view.item, self.present
        manages = role == Role.LEADER or item.claimed_by == staff.id
        refused = await run_in_threadpool(self.queue.invite_refusal, item.reference)
        invited = {i.staff_id for i in view.invitations}
        members = await run_in_threadpool(self.staffing.service_members)
        blocked = ""
        if refused is not None:
            blocked = self.refusal(refused)
        elif not (role == Role.LEADER or (item.status == "claimed" and manages)):
            blocked = p.t(REFUSAL_KEYS[InviteRefusal.NOT_HOLDER])
        return {
            "team": {
                "invited": [
                    {
                        "id": i.staff_id,
                        "name": p.staff_name(i.staff_id),
                        "service": self.service_name(i.service),
                        "by": p.staff_name(i.invited_by),
                        "since": p.when(i.invited_at),
                    }
                    for i in view.invitations
                ],
                "manages": manages,
                "blocked": blocked,
                "choices": [
                    (
                        a.id,
                        p.t(
                            N_("console.team.option"),
                            name=a.name,
                            service=self.service_name(a.service),
                        ),
                    )
                    for a in members
                    if a.id not in invited
                ],
            }
        }

    # --- the actions ----------------------------------------------------------------------

    async def invite(self, staff: Staff, reference: str, form: FormData) -> Response:
        """POST /staff/case/{reference}/invite (member=<staff id>)."""
        member = _field(form, "member")
        if not member:
            return await self.show_case(
                staff, reference, self.present.t(N_("console.team.choose_first")), 400
            )
        try:
            account = await run_in_threadpool(lambda: self.queue.invitee(member=member))
            await run_in_threadpool(self.queue.invite, reference, staff.id, account)
        except InviteRefused as refused:
            if refused.reason is InviteRefusal.NO_CASE:
                return self.no_case(staff)
            return await self.show_case(staff, reference, self.refusal(refused, member), 409)
        except (QueueError, UnknownStaff):
            return self.no_case(staff)
        return RedirectResponse(f"/staff/case/{reference}#team", status_code=303)

    async def uninvite(self, staff: Staff, reference: str, form: FormData) -> Response:
        """POST /staff/case/{reference}/uninvite (member=<staff id>)."""
        member = _field(form, "member")
        try:
            await run_in_threadpool(self.queue.uninvite, reference, staff.id, member)
        except InviteRefused as refused:
            if refused.reason is InviteRefusal.NO_CASE:
                return self.no_case(staff)
            who = self.present.staff_name(member) if member else ""
            return await self.show_case(staff, reference, self.refusal(refused, who), 409)
        except (QueueError, UnknownStaff):
            return self.no_case(staff)
        return RedirectResponse(f"/staff/case/{reference}#team", status_code=303)
