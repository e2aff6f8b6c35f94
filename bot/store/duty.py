"""Staff members' own on/off duty switches, by day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.store import hot
from bot.store.models import StaffDuty


def duty_switches(session: Session, day: str) -> dict[str, bool]:
    """Who switched themselves on (True) or off (False) on this day (ISO date)."""
    rows = session.connection().execute(hot.DUTY_SWITCHES, {"day": day})
    return {staff_id: on_duty for staff_id, on_duty in rows}


def switch_duty(session: Session, staff_id: str, on: bool, day: str, now: datetime) -> None:
    """Record a staff member's switch for this day (replacing an earlier one)."""
    row = session.get(StaffDuty, staff_id)
    if row is None:
        session.add(StaffDuty(staff_id=staff_id, on_duty=on, day=day, updated_at=now))
    else:
        row.on_duty, row.day, row.updated_at = on, day, now
