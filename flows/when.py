"""Saying when a person will read a message, in the citizen's language and time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from flows.types import N_, FlowContext

BABEL_LOCALE = {
    "nb": "nb_NO",
    "nn": "nn_NO",
    "en": "en_GB",
    "pl": "pl_PL",
    "uk": "uk_UA",
    "ar": "ar",
    "so": "so_SO",
}


def format_moment(moment: datetime, language: str, zone: str) -> str:
    """'tirsdag 25. november kl. 08:00' style, in the municipality's time zone."""
    local = moment.astimezone(ZoneInfo(zone))
    return format_datetime(
        local,
        "EEEE d. MMMM HH:mm" if language in ("nb", "nn") else "EEEE d MMMM HH:mm",
        locale=BABEL_LOCALE.get(language, "en_GB"),
    )


def when_read(ctx: FlowContext, language: str) -> str:
    """When the on-duty familielos will read it: today, or at the next opening."""
    if ctx.office_open or ctx.next_opening is None:
        return ctx.t(N_("when.open_now"), language)
    moment = format_moment(ctx.next_opening, language, ctx.settings.municipality.timezone)
    return ctx.t(N_("when.next_opening"), language, moment=moment)
