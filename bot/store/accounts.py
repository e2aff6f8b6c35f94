"""Staff accounts and their console sessions. Every change is audited in its transaction.

Accounts: the roster in config.yml seeds them (an id the database does not know yet is
added; the database is the truth after that), `inngang staff add` adds or updates one,
`inngang staff disable` ends one: its sessions, its command-line token and its duty
switches go with it, and it can no longer sign in; the row stays, so the audit log's names
stay readable.

Sessions: only the SHA-256 of the random session id is stored. A session ends after
``idle`` without use, ``absolute`` after sign-in, at sign-out, or when its account is
disabled. Methods are synchronous: ``async`` callers run them on a thread pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.audit import audit
from bot.store.db import statement_sessions
from bot.store.duty import duty_switches
from bot.store.models import (
    CaseInvitation,
    StaffAccount,
    StaffCredential,
    StaffDuty,
    StaffSession,
    StaffToken,
)

TOUCH_EVERY = timedelta(seconds=60)
"""A session's last use is written at most once a minute (not on every page)."""


@dataclass(frozen=True)
class Account:
    """A staff member as the console and the command line know them."""

    id: str
    name: str
    role: str
    service: str | None
    disabled: bool
    has_password: bool = False
    area: str = "default"
    """The area whose cases they see (``all``: every area's)."""


@dataclass(frozen=True)
class Contact:
    """Where an active staff member's notices go."""

    email: str | None
    phone: str | None


@dataclass(frozen=True)
class SeedMember:
    """A roster member from config.yml, as the accounts are seeded with it."""

    id: str
    name: str
    role: str
    service: str | None
    email: str | None = None
    phone: str | None = None
    area: str | None = None
    """The area config.yml puts them in (None: it says none, the account keeps its own)."""


@dataclass(frozen=True)
class SignedIn:
    """The staff member a live session belongs to."""

    account: Account
    with_start_password: bool


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite gives back naive datetimes: read them in the zone they were written in."""
    return moment if moment.tzinfo else moment.replace(tzinfo=like.tzinfo)


def _account(row: StaffAccount, has_password: bool = False) -> Account:
    return Account(
        row.id,
        row.name,
        row.role,
        row.service,
        row.disabled_at is not None,
        has_password,
        row.area,
    )


def disabled_ids(session: Session) -> list[str]:
    """The ids of disabled accounts (they are on nobody's duty and told nothing)."""
    return list(
        session.scalars(select(StaffAccount.id).where(StaffAccount.disabled_at.is_not(None)))
    )


class StaffAccounts:
    """The staff accounts and the console sessions in the store."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._reads = statement_sessions(sessions)
        """For the reads a message's notifications make (``statement_sessions``)."""

    # --- accounts -------------------------------------------------------------------------

    def seed(self, members: Iterable[SeedMember], now: datetime) -> list[str]:
        """Add the roster's members the database does not know yet; returns the ids added.
        Known ids are left as they are (disabled stays disabled), except that an address
        they have none of is filled from the roster, and the area config.yml gives them is
        theirs (config.yml decides who works where). Not audited: it is the configuration,
        read at every start, not somebody's act."""
        wanted = {member.id: member for member in members}
        with self.sessions.begin() as session:
            known = {row.id: row for row in session.scalars(select(StaffAccount))}
            added = []
            for member in wanted.values():
                row = known.get(member.id)
                if row is not None:
                    row.email = row.email or member.email
                    row.phone = row.phone or member.phone
                    row.area = member.area or row.area
                    continue
                session.add(
                    StaffAccount(
                        id=member.id,
                        name=member.name,
                        role=member.role,
                        service=member.service,
                        created_at=now,
                        email=member.email,
                        phone=member.phone,
                        area=member.area or "default",
                    )
                )
                added.append(member.id)
            return added

    def duty_facts(self, day: str) -> tuple[dict[str, bool], list[str]]:
        """The day's own duty switches (staff id: on) and the disabled accounts' ids."""
        with self.sessions() as session:
            return duty_switches(session, day), disabled_ids(session)

    def contact(self, staff_id: str) -> Contact | None:
        """Where an active account's notices go (None: unknown or disabled)."""
        with self.sessions() as session:
            row = session.get(StaffAccount, staff_id)
            if row is None or row.disabled_at is not None:
                return None
            return Contact(row.email, row.phone)

    def set_contact(
        self, staff_id: str, email: str | None, phone: str | None, now: datetime
    ) -> None:
        """Change where the account's notices go (a None leaves that address as it is)."""
        with self.sessions.begin() as session:
            row = session.get(StaffAccount, staff_id)
            if row is None:
                return
            changed = [name for name, value in (("email", email), ("phone", phone)) if value]
            row.email = email or row.email
            row.phone = phone or row.phone
            if changed:
                audit(
                    session,
                    now,
                    "operator",
                    "staff_contact",
                    detail=f"{staff_id}: {', '.join(changed)}",
                )

    def get(self, staff_id: str) -> Account | None:
        """The account with this id, disabled or not (None when there is none)."""
        with self._reads() as session:
            row = session.get(StaffAccount, staff_id)
            if row is None:
                return None
            return _account(row, session.get(StaffCredential, staff_id) is not None)

    def active(self, staff_id: str) -> Account | None:
        """The account if it exists and is not disabled."""
        account = self.get(staff_id)
        return account if account is not None and not account.disabled else None

    def all(self) -> list[Account]:
        """Every account, by id."""
        with self._reads() as session:
            with_password = set(session.scalars(select(StaffCredential.staff_id)))
            return [
                _account(row, row.id in with_password)
                for row in session.scalars(select(StaffAccount).order_by(StaffAccount.id))
            ]

    def save(
        self,
        staff_id: str,
        name: str,
        role: str,
        service: str | None,
        now: datetime,
        area: str | None = None,
    ) -> str:
        """Add an account, or update (and enable again) the one with this id (in ``area``
        when given); returns "added", "updated" or "enabled"."""
        with self.sessions.begin() as session:
            row = session.get(StaffAccount, staff_id)
            detail = f"{staff_id} ({role}{', ' + service if service else ''})"
            if area is not None:
                detail += f" area={area}"
            if row is None:
                session.add(
                    StaffAccount(
                        id=staff_id,
                        name=name,
                        role=role,
                        service=service,
                        created_at=now,
                        area=area or "default",
                    )
                )
                audit(session, now, "operator", "staff_add", detail=detail)
                return "added"
            outcome = "enabled" if row.disabled_at is not None else "updated"
            if row.role != role or row.service != service:
                session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
            if row.area != (area or row.area):
                session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
            row.name, row.role, row.service, row.disabled_at = name, role, service, None
            row.area = area or row.area
            action = "staff_enable" if outcome == "enabled" else "staff_update"
            audit(session, now, "operator", action, detail=detail)
            return outcome

    def disable(self, staff_id: str, now: datetime) -> bool:
        """Disable an account: its sessions, token, duty switches and invitations into cases
        end at once. Whether it was active before."""
        with self.sessions.begin() as session:
            row = session.get(StaffAccount, staff_id)
            if row is None:
                return False
            was_active = row.disabled_at is None
            row.disabled_at = row.disabled_at or now
            session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
            session.execute(delete(StaffToken).where(StaffToken.staff_id == staff_id))
            session.execute(delete(StaffDuty).where(StaffDuty.staff_id == staff_id))
            session.execute(
                update(CaseInvitation)
                .where(CaseInvitation.staff_id == staff_id, CaseInvitation.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            audit(session, now, "operator", "staff_disable", detail=staff_id)
            return was_active

    # --- sessions -------------------------------------------------------------------------

    def start_session(
        self, staff_id: str, id_hash: str, now: datetime, *, with_start_password: bool = False
    ) -> None:
        """A staff member signed in: their new session (audited)."""
        with self.sessions.begin() as session:
            session.add(
                StaffSession(
                    id_hash=id_hash,
                    staff_id=staff_id,
                    created_at=now,
                    last_seen_at=now,
                    with_start_password=with_start_password,
                )
            )
            audit(session, now, staff_id, "sign_in")

    def session_owner(
        self,
        id_hash: str,
        now: datetime,
        idle: timedelta,
        absolute: timedelta,
        *,
        touch: bool = True,
    ) -> SignedIn | None:
        """Whose live session this is (its use recorded unless ``touch`` is False: the live
        queue's polling is no use and keeps no session alive), or None: unknown, expired
        (then removed) or its account disabled."""
        with self.sessions.begin() as session:
            row = session.get(StaffSession, id_hash)
            if row is None:
                return None
            account = session.get(StaffAccount, row.staff_id)
            created = _aware(row.created_at, now)
            seen = _aware(row.last_seen_at, now)
            if (
                account is None
                or account.disabled_at is not None
                or now - seen >= idle
                or now - created >= absolute
            ):
                session.delete(row)
                return None
            if touch and now - seen >= TOUCH_EVERY:
                row.last_seen_at = now
            return SignedIn(_account(account), row.with_start_password)

    def end_session(self, id_hash: str, now: datetime) -> str | None:
        """Sign out: the session is removed (audited); whose it was, or None."""
        with self.sessions.begin() as session:
            row = session.get(StaffSession, id_hash)
            if row is None:
                return None
            session.delete(row)
            audit(session, now, row.staff_id, "sign_out")
            return row.staff_id

    def end_sessions_of(self, staff_id: str, keep: str | None = None) -> int:
        """End a staff member's sessions (all but ``keep``, a session id hash): after a
        password change. How many ended."""
        with self.sessions.begin() as session:
            query = delete(StaffSession).where(StaffSession.staff_id == staff_id)
            if keep is not None:
                query = query.where(StaffSession.id_hash != keep)
            result = session.execute(query)
            return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_own_password(self, id_hash: str) -> None:
        """The session's staff member has set their own password now."""
        with self.sessions.begin() as session:
            row = session.get(StaffSession, id_hash)
            if row is not None:
                row.with_start_password = False

    def purge_sessions(self, now: datetime, idle: timedelta, absolute: timedelta) -> int:
        """Remove expired sessions; how many."""
        with self.sessions.begin() as session:
            result = session.execute(
                delete(StaffSession).where(
                    or_(
                        StaffSession.last_seen_at <= now - idle,
                        StaffSession.created_at <= now - absolute,
                    )
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
