"""Who the staff are and what each role may do; who is on duty.

The accounts live in the database (the roster in config.yml seeds them; `inngang staff
add|disable` changes them). Duty comes from the roster's weekdays, overridden by staff
switching themselves on or off. What a role may do is decided here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from bot.areas import sees
from bot.schedule import Schedule
from bot.settings import STAFF_ID_PATTERN, Settings
from bot.store.accounts import Account, StaffAccounts, disabled_ids
from bot.store.db import Transaction
from bot.store.duty import duty_switches


class UnknownStaff(Exception):
    """A staff id that names no active account."""


class NotPermitted(Exception):
    """A staff member whose role does not allow this."""


class Role(StrEnum):
    """What a staff member is."""

    LOS = "los"
    LEADER = "leader"
    SERVICE = "service"
    """A member of a service (helsesykepleier, PPT, barnevern, ...): invited cases only."""
    ADMIN = "admin"
    """Manages the accounts; reads no cases."""


class Permission(StrEnum):
    """Something a role may do."""

    WORK_QUEUE = "work_queue"
    """See the queue, read, take, answer, hand on and close cases, switch duty."""
    ADD_NOTE = "add_note"
    """Write a note in a case's log (stafettlogg), never sent to the citizen. A service
    member writes them only in the cases they are invited to (the invitation decides which
    case, this table whether the role may at all)."""
    INVITE = "invite"
    """Bring service members into a case (familieteam) and take them out again: the los
    who holds the case, or a leader (the queue checks which case)."""
    SEE_INVITED = "see_invited"
    """Read the cases one is invited to (the conversation, the facts, the case log): a
    service member sees those and nothing else."""
    SEE_ACCOUNTS = "see_accounts"
    EDIT_ANSWERS = "edit_answers"
    """Add, change and remove the saved answers every los can insert in a reply."""
    SEE_UNPLACED = "see_unplaced"
    """Read the masked messages the bot could not place (the content editors' page)."""
    SEE_FIGURES = "see_figures"
    """Read the leaders' monthly picture (counts only, small ones hidden) and its CSV."""
    EDIT_CONTENT = "edit_content"
    """Change the service texts, contact details and opening hours the bot answers with
    (over the catalogs and config.yml; never the crisis lines), see their history, revert."""
    CALLBACKS = "callbacks"
    """Publish callback slots and take free ones away; mark a booked call done, move it or
    cancel it (the citizen is told)."""
    SEE_PARTICIPANTS = "see_participants"
    """See who a young person brought into their conversation (mitt nettverk): first
    names, since when, the kind of channel (a service member sees "invited", no name)."""


PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.LOS: frozenset(
        {
            Permission.WORK_QUEUE,
            Permission.ADD_NOTE,
            Permission.INVITE,
            Permission.CALLBACKS,
            Permission.SEE_PARTICIPANTS,
        }
    ),
    Role.LEADER: frozenset(
        {
            Permission.WORK_QUEUE,
            Permission.ADD_NOTE,
            Permission.INVITE,
            Permission.EDIT_ANSWERS,
            Permission.SEE_UNPLACED,
            Permission.SEE_FIGURES,
            Permission.EDIT_CONTENT,
            Permission.CALLBACKS,
            Permission.SEE_PARTICIPANTS,
        }
    ),
    Role.SERVICE: frozenset({Permission.SEE_INVITED, Permission.ADD_NOTE}),
    Role.ADMIN: frozenset(
        {
            Permission.SEE_ACCOUNTS,
            Permission.SEE_UNPLACED,
            Permission.SEE_FIGURES,
            Permission.EDIT_CONTENT,
        }
    ),
}


def may(role: str, permission: Permission) -> bool:
    """Whether a staff member with this role may do this."""
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False


class Staffing:
    """The staff accounts, on-duty staff and leaders."""

    def __init__(
        self,
        settings: Settings,
        schedule: Schedule,
        accounts: StaffAccounts | None = None,
        area: str | None = None,
    ) -> None:
        self.settings = settings
        self.schedule = schedule
        self.accounts = accounts
        self.area = area
        """One area's staffing (its roster, its leaders and those of all), or None: all."""
        self.members = {member.id: member for member in settings.roster.staff}

    def account(self, staff_id: str) -> Account:
        """The active account with this id, else UnknownStaff (without a database: the
        roster's member)."""
        if self.accounts is None:
            member = self.members.get(staff_id)
            if member is None:
                raise UnknownStaff(staff_id)
            return Account(
                member.id,
                member.name,
                member.role,
                member.service,
                False,
                area=member.area or "default",
            )
        if re.fullmatch(STAFF_ID_PATTERN, staff_id) is None:
            raise UnknownStaff(staff_id)  # never a staff id: not even asked of the database
        account = self.accounts.active(staff_id)
        if account is None:
            raise UnknownStaff(staff_id)
        return account

    def require(self, staff_id: str) -> str:
        """The id if it names an active account, else UnknownStaff."""
        return self.account(staff_id).id

    def require_permission(self, staff_id: str, permission: Permission) -> Account:
        """The active account, if its role allows this; else UnknownStaff or NotPermitted."""
        account = self.account(staff_id)
        if not may(account.role, permission):
            raise NotPermitted(f"{staff_id} ({account.role}) may not {permission.value}")
        return account

    def colleagues(self) -> list[Account]:
        """Active staff who work the queue (a case can be handed to them), by name."""
        if self.accounts is None:
            people = [self.account(m) for m in self.members]
        else:
            people = [a for a in self.accounts.all() if not a.disabled]
        return sorted(
            (a for a in people if may(a.role, Permission.WORK_QUEUE)), key=lambda a: a.name
        )

    def service_members(self, service: str | None = None) -> list[Account]:
        """Active service members who can be invited into a case (of ``service`` when
        given), by service and name."""
        if self.accounts is None:
            people = [self.account(m) for m in self.members]
        else:
            people = [a for a in self.accounts.all() if not a.disabled]
        return sorted(
            (
                a
                for a in people
                if may(a.role, Permission.SEE_INVITED) and service in (None, a.service)
            ),
            key=lambda a: (a.service or "", a.name),
        )

    def name(self, staff_id: str) -> str:
        """The staff member's name (the id when the account is unknown)."""
        if self.accounts is not None and re.fullmatch(STAFF_ID_PATTERN, staff_id):
            account = self.accounts.get(staff_id)
            if account is not None:
                return account.name
        member = self.members.get(staff_id)
        return member.name if member is not None else staff_id

    def leaders(self) -> tuple[str, ...]:
        """Active staff with the leader role (they get escalations and crisis notices)."""
        if self.accounts is None:
            return tuple(m.id for m in self.settings.roster.staff if m.role == "leader")
        return tuple(
            a.id
            for a in self.accounts.all()
            if a.role == Role.LEADER
            and not a.disabled
            and (self.area is None or sees(a.area, self.area))
        )

    def day(self, now: datetime) -> str:
        """The local date (ISO) that duty switches are recorded under."""
        return self.schedule.local(now).date().isoformat()

    def on_duty(self, tx: Transaction, now: datetime) -> tuple[str, ...]:
        """Los staff on duty now: today's roster plus switched on, minus switched off, minus
        disabled accounts (who are told nothing). In the caller's transaction."""
        return self._on_duty_from(duty_switches(tx, self.day(now)), disabled_ids(tx), now)

    def on_duty_now(self, now: datetime) -> tuple[str, ...]:
        """``on_duty`` read on its own (the console's and the command line's view)."""
        if self.accounts is None:
            return self.on_duty_given({}, now)
        switches, disabled = self.accounts.duty_facts(self.day(now))
        return self._on_duty_from(switches, disabled, now)

    def _on_duty_from(
        self, switches: Mapping[str, bool], disabled: Iterable[str], now: datetime
    ) -> tuple[str, ...]:
        gone = set(disabled)
        return tuple(s for s in self.on_duty_given(switches, now) if s not in gone)

    def on_duty_given(self, switches: Mapping[str, bool], now: datetime) -> tuple[str, ...]:
        """Los staff on duty now, given today's own switches (staff id: on). Staff who
        switched themselves on count (they proved who they were; disabling an account
        removes its switches); rostered ones must be on the roster."""
        on = {s for s in self.schedule.rostered(now) if s in self.members}
        for staff_id, switched_on in switches.items():
            if self.area is not None and staff_id not in self.members:
                continue  # on duty, but in another area
            if switched_on:
                on.add(staff_id)
            else:
                on.discard(staff_id)
        return tuple(sorted(on))
