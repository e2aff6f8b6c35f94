"""What the store keeps for and about staff: duty switches, passwords and personal tokens
(as hashes), their notices, and the audit and consent records operators read. Every
change is audited in its own transaction. Methods are synchronous: ``async`` callers run
them on a thread pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import ALL_AREAS
from bot.store.audit import AuditLine, audit, audit_lines
from bot.store.duty import switch_duty
from bot.store.figures import MonthFacts, PeriodFacts, month_facts, period_facts
from bot.store.models import Consent, StaffCredential, StaffSession, StaffToken
from bot.store.notices import NoticeRecord, mark_seen, notices_for


@dataclass(frozen=True)
class ConsentRecord:
    """A consent as an operator sees it: what was agreed to, when, and whether it is still
    linked to a person."""

    id: int
    case: str | None
    version: str
    text_sha256: str
    language: str
    scope: str
    channel: str
    given_at: datetime
    withdrawn_at: datetime | None
    erased_at: datetime | None
    linked: bool


def _revoke(session: Session, staff_id: str) -> bool:
    result = session.execute(delete(StaffToken).where(StaffToken.staff_id == staff_id))
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


class StaffRecords:
    """Staff-side records other than cases."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def audit(
        self,
        now: datetime,
        actor: str,
        action: str,
        reference: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record who did what, on its own (never message text)."""
        with self.sessions.begin() as session:
            audit(session, now, actor, action, reference, detail)

    def audit_log(self) -> list[AuditLine]:
        """The whole audit log, oldest first."""
        with self.sessions() as session:
            return audit_lines(session)

    def consents(self) -> list[ConsentRecord]:
        """Every consent record, oldest first."""
        with self.sessions() as session:
            return [
                ConsentRecord(
                    c.id,
                    c.case_reference,
                    c.version,
                    c.text_sha256,
                    c.language,
                    c.scope,
                    c.channel,
                    c.given_at,
                    c.withdrawn_at,
                    c.erased_at,
                    c.conversation_id is not None,
                )
                for c in session.scalars(select(Consent).order_by(Consent.id))
            ]

    def switch_duty(self, staff_id: str, on: bool, day: str, now: datetime) -> None:
        """Record a staff member's own duty switch for the day, audited."""
        with self.sessions.begin() as session:
            switch_duty(session, staff_id, on, day, now)
            audit(session, now, staff_id, "duty", detail="on" if on else "off")

    def password_hash(self, staff_id: str) -> str | None:
        """The staff member's own password hash, or None when they have none."""
        with self.sessions() as session:
            row = session.get(StaffCredential, staff_id)
            return None if row is None else row.password_hash

    def save_password_hash(
        self,
        staff_id: str,
        password_hash: str,
        now: datetime,
        *,
        action: str = "set_password",
        keep_session: str | None = None,
    ) -> None:
        """Store a staff member's own password hash (replacing any earlier one), audited.
        A new password ends the staff member's console sessions (all but ``keep_session``,
        the id hash of the one that changed it); an upgraded hash of the same password
        (``action="upgrade_password"``) ends none."""
        with self.sessions.begin() as session:
            if action == "set_password":
                ended = delete(StaffSession).where(StaffSession.staff_id == staff_id)
                if keep_session is not None:
                    ended = ended.where(StaffSession.id_hash != keep_session)
                session.execute(ended)
            row = session.get(StaffCredential, staff_id)
            if row is None:
                session.add(
                    StaffCredential(staff_id=staff_id, password_hash=password_hash, updated_at=now)
                )
            else:
                row.password_hash, row.updated_at = password_hash, now
            audit(session, now, staff_id, action)

    def replace_token(self, staff_id: str, token_hash: str, now: datetime) -> None:
        """Store a staff member's new personal token hash in place of any earlier one,
        audited as the operator's."""
        with self.sessions.begin() as session:
            _revoke(session, staff_id)
            session.add(StaffToken(staff_id=staff_id, token_hash=token_hash, created_at=now))
            audit(session, now, "operator", "issue_token", detail=f"for {staff_id}")

    def revoke_token(self, staff_id: str, now: datetime) -> bool:
        """Remove a staff member's token, audited; whether there was one."""
        with self.sessions.begin() as session:
            revoked = _revoke(session, staff_id)
            audit(session, now, "operator", "revoke_token", detail=f"for {staff_id}")
            return revoked

    def token_owner(self, token_hash: str, now: datetime) -> str | None:
        """Whose token has this hash (its use recorded), or None."""
        with self.sessions.begin() as session:
            row = session.scalars(
                select(StaffToken).where(StaffToken.token_hash == token_hash)
            ).first()
            if row is None:
                return None
            row.last_used_at = now
            return row.staff_id

    def notices(self, staff_id: str, limit: int) -> list[NoticeRecord]:
        """A staff member's latest notices, newest first, with their deliveries."""
        with self.sessions() as session:
            return notices_for(session, staff_id, limit=limit)

    def take_unseen_notices(self, staff_id: str, now: datetime) -> list[NoticeRecord]:
        """A staff member's notices not shown before, newest first; now marked seen."""
        with self.sessions.begin() as session:
            notices = notices_for(session, staff_id, unseen_only=True)
            mark_seen(session, [n.id for n in notices], now)
            return notices

    def figures(
        self, since: datetime, staff_id: str, now: datetime, detail: str, area: str = ALL_AREAS
    ) -> PeriodFacts:
        """What the leaders' figures are counted from, since ``since`` (of ``area``, or all
        together); the look is audited."""
        with self.sessions.begin() as session:
            facts = period_facts(session, since, area)
            audit(session, now, staff_id, "stats", detail=detail)
            return facts

    def month_figures(
        self,
        since: datetime,
        until: datetime,
        staff_id: str,
        now: datetime,
        detail: str,
        area: str = ALL_AREAS,
    ) -> MonthFacts:
        """What the leaders' monthly picture is counted from (``[since, until)``, of
        ``area`` or all together); the look is audited (``detail``: the month, or that it
        was the CSV, and the area)."""
        with self.sessions.begin() as session:
            facts = month_facts(session, since, until, area)
            audit(session, now, staff_id, "figures", detail=detail)
            return facts
