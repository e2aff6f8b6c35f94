"""Several municipalities (or areas of a merged one) on one installation.

``config.yml``'s top level is the area ``default``; each entry of ``areas:`` overlays it with
what it differs in (the municipality's name, services' contact details, opening hours, the
roster). ``Areas.of`` builds every area's effective Settings once at start (pure), and says
which area an entry leads to: a web chat path, an SMS number, a Telegram ``start``
parameter. Without ``areas:`` there is one area and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.settings import ALL_AREAS, DEFAULT_AREA, Area, Roster, Settings

__all__ = ["ALL_AREAS", "DEFAULT_AREA", "Areas", "area_settings", "sees", "start_area"]
START = re.compile(r"/start\s+([a-z0-9][a-z0-9-]{0,31})")


def sees(staff_area: str, case_area: str) -> bool:
    """Whether a staff member of ``staff_area`` may see a case of ``case_area``."""
    return staff_area in (ALL_AREAS, case_area)


def _members(settings: Settings, area: str) -> set[str]:
    return {m.id for m in settings.roster.staff if (m.area or DEFAULT_AREA) in (area, ALL_AREAS)}


def area_settings(settings: Settings, area: Area | None) -> Settings:
    """The top-level settings with one area's overlay (``None``: the top level's own area,
    its roster narrowed to its own staff when there are areas)."""
    members = _members(settings, area.id if area else DEFAULT_AREA)
    on_duty = dict(settings.roster.on_duty)
    if area is not None and area.roster is not None:
        on_duty = dict(area.roster.on_duty)
    roster = Roster.model_construct(
        staff=tuple(m for m in settings.roster.staff if m.id in members),
        on_duty={day: tuple(s for s in ids if s in members) for day, ids in on_duty.items()},
    )
    if area is None:
        if not settings.areas:
            return settings
        return settings.model_copy(update={"roster": roster})
    overrides = {o.id: o.model_dump(exclude_none=True, exclude={"id"}) for o in area.services}
    services = tuple(
        s.model_copy(update=overrides[s.id]) if s.id in overrides else s for s in settings.services
    )
    municipality = settings.municipality.model_copy(
        update={
            k: v
            for k, v in (("name", area.municipality_name), ("web", area.municipality_web))
            if v is not None
        }
    )
    after_hours = settings.after_hours
    if area.after_hours_phone:
        after_hours = after_hours.model_copy(update={"phone": area.after_hours_phone})
    return settings.model_copy(
        update={
            "municipality": municipality,
            "services": services,
            "opening_hours": area.opening_hours or settings.opening_hours,
            "roster": roster,
            "after_hours": after_hours,
        }
    )


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


@dataclass(frozen=True)
class Areas:
    """Every area's effective settings and what leads to each."""

    settings: Mapping[str, Settings]
    """Area id -> its effective settings (``default`` always among them)."""
    names: Mapping[str, str]
    """Area id -> its display name."""
    sms: Mapping[str, str]
    """An SMS number's digits -> the area it leads to."""

    @classmethod
    def of(cls, settings: Settings) -> Areas:
        """Build every area once (pure: the base settings and each overlay)."""
        by_id: dict[str, Settings] = {DEFAULT_AREA: area_settings(settings, None)}
        names = {DEFAULT_AREA: settings.municipality.name}
        for area in settings.areas:
            by_id[area.id] = area_settings(settings, area)
            names[area.id] = area.name
        return cls(
            by_id,
            names,
            {_digits(a.sms_number): a.id for a in settings.areas if a.sms_number},
        )

    @property
    def several(self) -> bool:
        """Whether the installation has more than the one implicit area."""
        return len(self.settings) > 1

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.settings)

    def known(self, area: str | None) -> str:
        """The area if it is one, else the default (an unknown one never makes a new one)."""
        return area if area is not None and area in self.settings else DEFAULT_AREA

    def get(self, area: str | None) -> Settings:
        """The effective settings of this area (the default's for an unknown one)."""
        return self.settings[self.known(area)]

    def by_sms(self, number: str | None) -> str:
        """The area an SMS sent to this number belongs to."""
        return self.sms.get(_digits(number or ""), DEFAULT_AREA)


def start_area(text: str) -> str:
    """The area a Telegram deep link (``t.me/<bot>?start=<area>``) names: its first message
    is ``/start <area>`` ("" for any other message)."""
    found = START.fullmatch(text.strip())
    return found.group(1) if found else ""
