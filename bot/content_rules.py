"""What staff may write as service content: the keys that can be changed and the checks a
change must pass (pure, no I/O). A refused value is said as a ``Refusal``: which field, and
a catalog key (with its parameters) that says why in the staff language.

Service texts keep the placeholders of their default text (a text that drops ``{municipality}``
or invents ``{phone}`` is refused) and carry no markup (every channel shows text escaped;
a tag is refused rather than shown as code). Phone numbers are Norwegian (eight digits,
optionally ``+47``, or a short number such as 116 111), e-mail addresses and https addresses
as the web chat can link them, opening hours HH:MM with opening before closing. The crisis
lines are not content: they stay in config.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from bot.channels.links import EMAIL, WEB
from bot.settings import WEEKDAYS
from flows.types import N_

TEXT_FIELDS = ("what", "next", "sms", "next.sms")
"""The service texts that can be changed: ``service.<id>.<field>`` in the catalogs."""
CONTACT_FIELDS = ("phone", "after_hours_phone", "email", "address", "url")
OPTIONAL_CONTACTS = frozenset({"after_hours_phone", "email", "address", "url"})
REGISTERS = ("adult", "youth")
YOUTH_SUFFIX = ".youth"
MAX_TEXT = {"what": 1200, "next": 600, "sms": 400, "next.sms": 300}
"""The longest text per field (characters): the SMS forms must stay within four SMS."""
MAX_ADDRESS = 200
PLACEHOLDER = re.compile(r"(?<!\{)\{(\w*)\}(?!\})")
MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?]|&[#A-Za-z0-9]+;|\]\(\s*[a-z]+:")
"""An HTML tag, an entity, or a Markdown link: shown escaped, they would read as code."""
HIDDEN = re.compile(r"[\u0000-\u0009\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters, zero-width characters and bidi overrides (a new line is allowed)."""
PHONE_CHARS = re.compile(r"^\+?[0-9][0-9 ]*[0-9]$")
CLOCK = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")


@dataclass(frozen=True)
class Refusal:
    """Why a value was refused: the field (as the form names it) and the reason's key."""

    field: str
    key: str
    params: dict[str, object] = dataclass_field(default_factory=dict)


def catalog_key(service: str, text_field: str, register: str = "adult") -> str:
    """The catalog key of a service text (``service.helsestasjon.what``, ``.youth`` for the
    youth register)."""
    key = f"service.{service}.{text_field}"
    return key + YOUTH_SUFFIX if register == "youth" else key


def normalised(value: str) -> str:
    """A value as a form sends it, as it is kept: line ends as ``\\n``, no outer spaces."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders in a text."""
    return set(PLACEHOLDER.findall(text))


def check_text(name: str, text_field: str, value: str, default: str) -> list[Refusal]:
    """A service text: not empty, not too long, the default's placeholders and no others,
    no markup or hidden characters."""
    if not value:
        return [Refusal(name, N_("console.content.error.empty"))]
    limit = MAX_TEXT.get(text_field, 1200)
    if len(value) > limit:
        return [Refusal(name, N_("console.content.error.too_long"), {"max": limit})]
    wanted, found = placeholders(default), placeholders(value)
    if wanted - found:
        missing = ", ".join("{" + p + "}" for p in sorted(wanted - found))
        return [Refusal(name, N_("console.content.error.missing"), {"names": missing})]
    if found - wanted:
        unknown = ", ".join("{" + p + "}" for p in sorted(found - wanted))
        return [Refusal(name, N_("console.content.error.unknown"), {"names": unknown})]
    try:
        value.format(**{p: "" for p in wanted})
    except (KeyError, IndexError, ValueError):
        return [Refusal(name, N_("console.content.error.braces"))]
    return _plain(name, value)


def _plain(name: str, value: str) -> list[Refusal]:
    if MARKUP.search(value):
        return [Refusal(name, N_("console.content.error.markup"))]
    if HIDDEN.search(value):
        return [Refusal(name, N_("console.content.error.hidden"))]
    return []


def check_phone(name: str, value: str) -> list[Refusal]:
    """A Norwegian phone number: eight digits (2-9 first), with or without +47 and spaces,
    or a short number (three to six digits: 113, 116 111, 1881)."""
    digits = value.replace(" ", "")
    if PHONE_CHARS.match(value) and len(value) <= 20:
        national = digits[3:] if digits.startswith("+47") else digits
        if digits.startswith("+") and not digits.startswith("+47"):
            national = ""
        if len(national) == 8 and national[0] in "23456789":
            return []
        if not digits.startswith("+") and 3 <= len(national) <= 6 and national[0] == "1":
            return []
    return [Refusal(name, N_("console.content.error.phone"))]


def check_contact(name: str, value: str) -> list[Refusal]:
    """One contact detail (``name`` is its field); the optional ones may be empty (none)."""
    if not value:
        if name in OPTIONAL_CONTACTS:
            return []
        return [Refusal(name, N_("console.content.error.empty"))]
    if name in ("phone", "after_hours_phone"):
        return check_phone(name, value)
    if name == "email":
        ok = EMAIL.match(value) is not None and len(value) <= 254
        return [] if ok else [Refusal(name, N_("console.content.error.email"))]
    if name == "url":
        ok = WEB.match(value) is not None and len(value) <= 300
        return [] if ok else [Refusal(name, N_("console.content.error.url"))]
    if len(value) > MAX_ADDRESS:
        return [Refusal(name, N_("console.content.error.too_long"), {"max": MAX_ADDRESS})]
    if "\n" in value:
        return [Refusal(name, N_("console.content.error.one_line"))]
    return _plain(name, value)


def _minutes(clock: str) -> int | None:
    match = CLOCK.match(clock)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes:
        return None
    return hours * 60 + minutes


def hours_value(opens: str, closes: str, closed: bool) -> str:
    """A weekday's opening hours as kept: ``08:00-15:30``, or ``""`` for closed."""
    return "" if closed else f"{opens}-{closes}"


def check_hours(day: str, opens: str, closes: str, closed: bool) -> list[Refusal]:
    """A weekday's hours: both times HH:MM (24:00 for midnight), opening before closing;
    or closed all day."""
    if day not in WEEKDAYS:
        return [Refusal(day, N_("console.content.error.day"))]
    if closed:
        return []
    start, end = _minutes(opens), _minutes(closes)
    if start is None or end is None:
        return [Refusal(day, N_("console.content.error.clock"))]
    if start >= end:
        return [Refusal(day, N_("console.content.error.order"), {"opens": opens, "closes": closes})]
    return []


def parse_hours(value: str) -> tuple[str, str] | None:
    """Kept hours back as (opens, closes); None for closed."""
    opens, sep, closes = value.partition("-")
    return (opens, closes) if sep else None
