"""Callback slots in the store: the times a los (or the roster) can call a family back, each
holding at most one case's call. Booking is one conditional UPDATE (of two families at
once, exactly one gets the slot); a reminder is claimed the same way (sent once, whichever
worker gets there). A booking names the case only; the number stays in the case. A slot
belongs to an area: its families are offered it, its staff act on it.

The module functions run inside the caller's transaction (the router's step, retention,
erasure); ``Callbacks`` is the console's and the jobs' repository."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.areas import DEFAULT_AREA
from bot.clock import Clock
from bot.store.audit import audit
from bot.store.enums import OPEN_STATUSES, CaseStatus
from bot.store.models import CallbackSlot, Case
from bot.store.repo import aware, record_event
from flows.callback import CANCELLED, MOVED, REMINDER, WHEN_ANY, event_for, stamp

GENERATED = ""
"""The owner of slots generated from the opening hours and roster (no one staff member)."""
FREE_LOOKAHEAD = 200
"""At most this many free starts are read to find the few to offer."""


class SlotTaken(Exception):
    """The slot was booked by someone else meanwhile (or is gone)."""


class CallError(Exception):
    """A change to a call that cannot be made (it is gone, done, or the time is not free)."""


@dataclass(frozen=True)
class Call:
    """A slot as the console shows it: free, or booked for a case."""

    slot_id: int
    starts_at: datetime
    minutes: int
    owner: str
    reference: str | None = None
    language: str | None = None
    claimed_by: str | None = None
    status: CaseStatus | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    reminded_at: datetime | None = None
    area: str = DEFAULT_AREA


def utc(moment: datetime) -> datetime:
    """A moment as stored: UTC (SQLite keeps no offset)."""
    return moment.astimezone(UTC)


def free_starts(
    session: Session, after: datetime, until: datetime, area: str = DEFAULT_AREA
) -> list[datetime]:
    """The distinct starts of ``area``'s free slots from ``after`` up to ``until``, earliest
    first."""
    rows = session.scalars(
        select(CallbackSlot.starts_at)
        .where(
            CallbackSlot.area == area,
            CallbackSlot.case_id.is_(None),
            CallbackSlot.starts_at >= utc(after),
            CallbackSlot.starts_at < utc(until),
        )
        .distinct()
        .order_by(CallbackSlot.starts_at)
        .limit(FREE_LOOKAHEAD)
    ).all()
    return [aware(moment) for moment in rows]


def book(session: Session, case: Case, starts_at: datetime, now: datetime) -> int:
    """Book a free slot of the case's area starting at ``starts_at`` for the case (its
    earlier booking, if any, is let go); the slot's id. ``SlotTaken`` when none is free any
    more."""
    release(session, CallbackSlot.case_id == case.id)
    candidates = session.scalars(
        select(CallbackSlot.id)
        .where(
            CallbackSlot.starts_at == utc(starts_at),
            CallbackSlot.case_id.is_(None),
            CallbackSlot.area == case.area,
        )
        .order_by(CallbackSlot.id)
    ).all()
    for slot_id in candidates:
        taken = session.execute(
            update(CallbackSlot)
            .where(CallbackSlot.id == slot_id, CallbackSlot.case_id.is_(None))
            .values(case_id=case.id, booked_at=now, reminded_at=None, done_at=None, done_by=None)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return slot_id
    raise SlotTaken(stamp(starts_at))


def release(session: Session, booked: ColumnElement[bool]) -> None:
    """Let go of the bookings matching ``booked``: the slots are free again."""
    session.execute(
        update(CallbackSlot)
        .where(booked)
        .values(case_id=None, booked_at=None, reminded_at=None, done_at=None, done_by=None)
        .execution_options(synchronize_session=False)
    )


def release_for_cases(session: Session, cases: ColumnElement[bool]) -> None:
    """The cases matching ``cases`` go (retention, erasure, a withdrawn consent): so do their
    bookings."""
    release(session, CallbackSlot.case_id.in_(select(Case.id).where(cases)))


def delete_old(session: Session, before: datetime) -> int:
    """Delete the slots that started before ``before`` (retention); how many."""
    gone = session.execute(
        delete(CallbackSlot)
        .where(CallbackSlot.starts_at < utc(before))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def booked_for(session: Session, case_id: int) -> Call | None:
    """The case's booked call, if any."""
    row = session.execute(
        select(CallbackSlot, Case)
        .join(Case, Case.id == CallbackSlot.case_id)
        .where(CallbackSlot.case_id == case_id)
    ).first()
    return None if row is None else _call(row[0], row[1])


def _call(slot: CallbackSlot, case: Case | None) -> Call:
    return Call(
        slot.id,
        aware(slot.starts_at),
        slot.minutes,
        slot.owner,
        case.reference if case else None,
        case.language if case else None,
        case.claimed_by if case else None,
        case.status if case else None,
        aware(slot.done_at) if slot.done_at else None,
        slot.done_by,
        aware(slot.reminded_at) if slot.reminded_at else None,
        slot.area,
    )


class Callbacks:
    """Publishing slots, the day's calls, a call done, moved or cancelled, the reminders."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def publish(
        self, staff_id: str, starts: Iterable[datetime], minutes: int, area: str = DEFAULT_AREA
    ) -> int:
        """Publish ``area``'s slots (one call each) in ``staff_id``'s name; a time she
        published there already is left as it is. How many are new. Audited (the count,
        never a case)."""
        now = self.clock()
        with self.sessions.begin() as session:
            added = _add_missing(session, staff_id, starts, minutes, now, area)
            if added:
                shown = f"{added} slots" + ("" if area == DEFAULT_AREA else f" area={area}")
                audit(session, now, staff_id, "callbacks_published", detail=shown)
            return added

    def generate(self, starts: Iterable[datetime], minutes: int, area: str = DEFAULT_AREA) -> int:
        """``area``'s slots from its opening hours and roster that do not exist yet (a
        job)."""
        with self.sessions.begin() as session:
            return _add_missing(session, GENERATED, starts, minutes, self.clock(), area)

    def area_of(self, slot_id: int) -> str | None:
        """The area of the slot (None when there is no such slot)."""
        with self.sessions() as session:
            return session.scalar(select(CallbackSlot.area).where(CallbackSlot.id == slot_id))

    def remove(self, slot_id: int, staff_id: str) -> bool:
        """Take a free slot away (a booked one stays: cancel its call). Audited."""
        now = self.clock()
        with self.sessions.begin() as session:
            gone = session.execute(
                delete(CallbackSlot)
                .where(CallbackSlot.id == slot_id, CallbackSlot.case_id.is_(None))
                .execution_options(synchronize_session=False)
            )
            if getattr(gone, "rowcount", 0) != 1:
                return False
            audit(session, now, staff_id, "callback_slot_removed", detail=f"slot {slot_id}")
            return True

    def between(self, start: datetime, end: datetime, area: str | None = None) -> list[Call]:
        """Every slot from ``start`` to ``end`` (the day's calls and the free slots), by
        time: ``area``'s (None: every area's)."""
        query = (
            select(CallbackSlot, Case)
            .outerjoin(Case, Case.id == CallbackSlot.case_id)
            .where(CallbackSlot.starts_at >= utc(start), CallbackSlot.starts_at < utc(end))
            .order_by(CallbackSlot.starts_at, CallbackSlot.id)
        )
        if area is not None:
            query = query.where(CallbackSlot.area == area)
        with self.sessions() as session:
            rows = session.execute(query).all()
            return [_call(slot, case) for slot, case in rows]

    def for_case(self, reference: str) -> Call | None:
        """The case's booked call, if any."""
        with self.sessions() as session:
            case_id = session.scalar(select(Case.id).where(Case.reference == reference))
            return None if case_id is None else booked_for(session, case_id)

    def wish(self, reference: str) -> tuple[str | None, Call | None]:
        """How the case's family wanted the call ("slot", "any", "other" or None), and the
        call booked for it, if any."""
        with self.sessions() as session:
            found = session.execute(
                select(Case.id, Case.callback_when).where(Case.reference == reference)
            ).first()
            if found is None:
                return None, None
            return found[1], booked_for(session, found[0])

    def free_after(
        self, after: datetime, until: datetime, area: str = DEFAULT_AREA
    ) -> list[datetime]:
        """``area``'s free starts (for the console's "move to")."""
        with self.sessions() as session:
            return free_starts(session, after, until, area)

    def _booked(self, session: Session, slot_id: int) -> tuple[CallbackSlot, Case]:
        row = session.execute(
            select(CallbackSlot, Case)
            .join(Case, Case.id == CallbackSlot.case_id)
            .where(CallbackSlot.id == slot_id)
        ).first()
        if row is None:
            raise CallError(f"no booked call in slot {slot_id}")
        return row[0], row[1]

    def mark_done(self, slot_id: int, staff_id: str) -> str:
        """The los made the call; the case's reference. Audited."""
        now = self.clock()
        with self.sessions.begin() as session:
            slot, case = self._booked(session, slot_id)
            slot.done_at, slot.done_by = now, staff_id
            audit(session, now, staff_id, "callback_done", case.reference)
            return case.reference

    def move(self, slot_id: int, to: datetime, staff_id: str) -> str:
        """Move a call to another free time (the old slot is free again); the citizen is told
        in their language. ``CallError`` when the call is done or the time is not free."""
        now = self.clock()
        with self.sessions.begin() as session:
            slot, case = self._booked(session, slot_id)
            if slot.done_at is not None or case.status not in OPEN_STATUSES:
                raise CallError(f"the call in slot {slot_id} is done or its case ended")
            try:
                book(session, case, to, now)
            except SlotTaken as error:
                raise CallError(f"{stamp(to)} is not free") from error
            self._tell(session, case, MOVED, to, now)
            audit(session, now, staff_id, "callback_moved", case.reference)
            return case.reference

    def cancel(self, slot_id: int, staff_id: str) -> str:
        """Cancel a call: the slot is taken away (not offered again), the case keeps "any
        time", and the citizen is told in their language. Audited."""
        now = self.clock()
        with self.sessions.begin() as session:
            slot, case = self._booked(session, slot_id)
            if slot.done_at is not None:
                raise CallError(f"the call in slot {slot_id} is done")
            starts = aware(slot.starts_at)
            session.delete(slot)
            case.callback_when = WHEN_ANY
            if case.status in OPEN_STATUSES:
                self._tell(session, case, CANCELLED, starts, now)
            audit(session, now, staff_id, "callback_cancelled", case.reference)
            return case.reference

    def _tell(self, session: Session, case: Case, kind: str, at: datetime, now: datetime) -> None:
        if case.conversation_id is not None:
            what = event_for(kind, case.reference)
            record_event(session, case.conversation_id, what, now, stamp(at))

    def remind(self, before: timedelta) -> int:
        """Remind the families whose call starts within ``before`` (booked before that, case
        still open, not done): an event for each conversation, whose router writes the
        reminder in its language into the outbox. Each is claimed first, so it goes once
        whichever worker runs this. How many."""
        now = self.clock()
        sent = 0
        with self.sessions.begin() as session:
            due = session.execute(
                select(CallbackSlot, Case)
                .join(Case, Case.id == CallbackSlot.case_id)
                .where(
                    CallbackSlot.reminded_at.is_(None),
                    CallbackSlot.done_at.is_(None),
                    CallbackSlot.starts_at > utc(now),
                    CallbackSlot.starts_at <= utc(now + before),
                    Case.status.in_(OPEN_STATUSES),
                    Case.conversation_id.is_not(None),
                )
            ).all()
            for slot, case in due:
                starts = aware(slot.starts_at)
                if slot.booked_at is not None and aware(slot.booked_at) > starts - before:
                    continue  # booked inside the window: the confirmation is fresh
                claimed = session.execute(
                    update(CallbackSlot)
                    .where(CallbackSlot.id == slot.id, CallbackSlot.reminded_at.is_(None))
                    .values(reminded_at=now)
                    .execution_options(synchronize_session=False)
                )
                if getattr(claimed, "rowcount", 0) == 1:
                    self._tell(session, case, REMINDER, starts, now)
                    sent += 1
        return sent


def _add_missing(
    session: Session,
    owner: str,
    starts: Iterable[datetime],
    minutes: int,
    now: datetime,
    area: str = DEFAULT_AREA,
) -> int:
    wanted = sorted({utc(s) for s in starts})
    if not wanted:
        return 0
    known = {
        aware(m)
        for m in session.scalars(
            select(CallbackSlot.starts_at).where(
                CallbackSlot.owner == owner,
                CallbackSlot.area == area,
                CallbackSlot.starts_at.in_(wanted),
            )
        )
    }
    fresh = [s for s in wanted if s not in known]
    session.add_all(
        CallbackSlot(starts_at=s, minutes=minutes, owner=owner, created_at=now, area=area)
        for s in fresh
    )
    return len(fresh)
