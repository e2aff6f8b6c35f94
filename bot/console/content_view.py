"""What the content page shows: each field's default beside the value in force (or the
draft), the answer as the web chat and an SMS would show it, and the history with its
differences. Pure: built from the content in force, the draft and the catalogs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.areas import DEFAULT_AREA
from bot.channels.links import LinkFacts
from bot.channels.sms import (
    GSM_PART,
    GSM_SINGLE,
    UNICODE_PART,
    UNICODE_SINGLE,
    as_sms,
    is_gsm,
    sms_parts,
)
from bot.console.present import Presenter
from bot.content import Effective, effective
from bot.content_rules import CONTACT_FIELDS, TEXT_FIELDS, Refusal, catalog_key, parse_hours
from bot.i18n import Catalogs
from bot.settings import WEEKDAYS, Settings
from bot.store.content import Change, ContentKey
from flows import answers
from flows.types import N_, FlowContext, Outbound
from flows.voice import Register

FIELD_KEYS = {
    "what": N_("console.content.field.what"),
    "next": N_("console.content.field.next"),
    "sms": N_("console.content.field.sms"),
    "next.sms": N_("console.content.field.next_sms"),
    "phone": N_("console.content.field.phone"),
    "after_hours_phone": N_("console.content.field.after_hours_phone"),
    "email": N_("console.content.field.email"),
    "address": N_("console.content.field.address"),
    "url": N_("console.content.field.url"),
}
DAY_KEYS = {
    "monday": N_("console.content.day.monday"),
    "tuesday": N_("console.content.day.tuesday"),
    "wednesday": N_("console.content.day.wednesday"),
    "thursday": N_("console.content.day.thursday"),
    "friday": N_("console.content.day.friday"),
    "saturday": N_("console.content.day.saturday"),
    "sunday": N_("console.content.day.sunday"),
}
REGISTER_KEYS = {
    "adult": N_("console.content.register.adult"),
    "youth": N_("console.content.register.young"),
}
_TOKENS = re.compile(r"\s+|[^\s]+")
MOSTLY_NEW = 0.5
"""Below this share of words kept, a difference is shown as the whole old and new text."""


def form_name(field: str) -> str:
    """A field's name in a form and its element's id (``next.sms`` -> ``next_sms``)."""
    return field.replace(".", "_")


@dataclass(frozen=True)
class Choice:
    """Which texts the page edits."""

    service: str
    language: str
    register: str
    area: str = DEFAULT_AREA
    """The area whose content it is (``default``: the top level, the only one without areas)."""

    def key(self, field: str, register: str | None = None) -> ContentKey:
        """The key of one of this choice's texts (in ``register``, else the chosen one)."""
        return ContentKey(
            "text", self.service, field, self.language, register or self.register, self.area
        )


def text_default(base: Effective, choice: Choice, field: str) -> str:
    """What a reader gets when staff wrote nothing for this register: the catalog's text;
    for the youth register, the catalog's youth text, else the adult text in force."""
    key = catalog_key(choice.service, field, choice.register)
    found = base.t.default(key, choice.language)
    if found or choice.register != "youth":
        return found
    adult = choice.key(field, "adult")
    return base.values.get(adult) or base.t.default(
        catalog_key(choice.service, field), choice.language
    )


def text_rows(
    base: Effective,
    choice: Choice,
    draft: Mapping[str, str],
    refusals: Mapping[str, Refusal],
    p: Presenter,
) -> list[dict[str, Any]]:
    """The four texts: the default beside the value in force (or as the draft has it)."""
    rows = []
    for field in TEXT_FIELDS:
        key = choice.key(field)
        default = text_default(base, choice, field)
        own = base.values.get(key)
        rows.append(
            {
                "field": field,
                "name": form_name(field),
                "label": p.t(FIELD_KEYS[field]),
                "default": default,
                "value": draft.get(field, own if own is not None else default),
                "changed": own is not None,
                "error": _said(p, refusals.get(field)),
            }
        )
    return rows


def contact_rows(
    settings: Settings,
    base: Effective,
    service: str,
    draft: Mapping[str, str],
    refusals: Mapping[str, Refusal],
    p: Presenter,
    area: str = DEFAULT_AREA,
) -> list[dict[str, Any]]:
    """The service's contact details: config.yml's (the area's) beside the ones in force."""
    configured = settings.service(service)
    rows = []
    for field in CONTACT_FIELDS:
        default = getattr(configured, field) or ""
        own = base.values.get(ContentKey("contact", service, field, area=area))
        rows.append(
            {
                "field": field,
                "name": field,
                "label": p.t(FIELD_KEYS[field]),
                "default": default,
                "value": draft.get(field, own if own is not None else default),
                "changed": own is not None,
                "error": _said(p, refusals.get(field)),
                "type": {"email": "email", "url": "url", "address": "text"}.get(field, "tel"),
            }
        )
    return rows


def hours_rows(
    settings: Settings,
    base: Effective,
    draft: Mapping[str, tuple[str, str] | None],
    refusals: Mapping[str, Refusal],
    p: Presenter,
    area: str = DEFAULT_AREA,
) -> list[dict[str, Any]]:
    """The los office's opening hours per weekday: config.yml's (the area's) beside the ones
    in force."""
    rows = []
    for day in WEEKDAYS:
        default = settings.opening_hours.weekly.get(day)
        own = base.values.get(ContentKey("hours", "", day, area=area))
        in_force = parse_hours(own) if own is not None else default
        hours = draft.get(day, in_force)
        rows.append(
            {
                "day": day,
                "label": p.t(DAY_KEYS[day]),
                "default": (
                    p.t(N_("console.content.hours.span"), opens=default[0], closes=default[1])
                    if default
                    else p.t(N_("console.content.hours.closed"))
                ),
                "opens": hours[0] if hours else "",
                "closes": hours[1] if hours else "",
                "closed": hours is None,
                "changed": own is not None,
                "error": _said(p, refusals.get(day)),
            }
        )
    return rows


def _said(p: Presenter, refusal: Refusal | None) -> str:
    return p.t(refusal.key, **refusal.params) if refusal else ""


def preview(
    settings: Settings,
    catalogs: Catalogs,
    values: Mapping[ContentKey, str],
    choice: Choice,
    p: Presenter,
) -> dict[str, Any]:
    """The service's answer with these values, as the web chat shows it (its facts as
    links) and as it goes by SMS (its parts, and whether in GSM-7 or Unicode)."""
    shown = effective(settings, catalogs, values)
    register = Register(choice.register)
    ctx = FlowContext(settings=shown.settings, t=shown.t, now=p.clock())
    web = answers.service_answer(ctx, choice.service, choice.language, register)
    short = FlowContext(settings=shown.settings, t=shown.t, now=p.clock(), short_texts=True)
    sms = as_sms([answers.service_answer(short, choice.service, choice.language, register)])[0]
    parts = sms_parts(sms.text, settings.sms.max_parts)
    gsm = is_gsm(sms.text)
    return {
        "web": _bubble(web, shown.links),
        "sms": {
            "parts": parts,
            "count": len(parts),
            "chars": len(sms.text),
            "encoding": p.t(
                N_("console.content.sms.gsm") if gsm else N_("console.content.sms.unicode"),
                single=GSM_SINGLE if gsm else UNICODE_SINGLE,
                part=GSM_PART if gsm else UNICODE_PART,
            ),
        },
        "lang": choice.language,
        "dir": p.direction(choice.language),
    }


def _bubble(message: Outbound, links: LinkFacts) -> dict[str, Any]:
    return {
        "paragraphs": [links.parts(block) for block in message.text.split("\n\n")],
        "buttons": [b.label for b in message.buttons],
    }


def diff(before: str, after: str) -> list[tuple[str, str]]:
    """Word by word: ("same" | "gone" | "new", words), for <del> and <ins>."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < MOSTLY_NEW:  # a new text: the old one gone, the new one added
        return _whole(before, after)
    out: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("same", "".join(old[a1:a2])))
            continue
        if a2 > a1:
            out.append(("gone", "".join(old[a1:a2])))
        if b2 > b1:
            out.append(("new", "".join(new[b1:b2])))
    return out


def _whole(before: str, after: str) -> list[tuple[str, str]]:
    """A number, an address or hours: the whole value was replaced, not some of its words."""
    return [(op, text) for op, text in (("gone", before), ("new", after)) if text]


def history_rows(
    changes: list[Change],
    defaults: Mapping[ContentKey, str],
    p: Presenter,
) -> list[dict[str, Any]]:
    """The changes, newest first: when (Oslo time), who, what, and the difference (a value
    back to its default is compared with the default)."""
    rows = []
    for change in changes:
        key = change.key
        default = defaults.get(key, "")
        before = change.previous if change.previous is not None else default
        after = change.value if change.value is not None else default
        rows.append(
            {
                "id": change.id,
                "when": p.when(change.at),
                "who": p.staff_name(change.by),
                "what": describe(key, p),
                "diff": (diff if key.kind == "text" else _whole)(
                    _shown(key, before, p), _shown(key, after, p)
                ),
                "to_default": change.value is None,
                "from_default": change.previous is None,
                "lang": key.language or p.language,
            }
        )
    return rows


def _shown(key: ContentKey, value: str, p: Presenter) -> str:
    if key.kind != "hours":
        return value
    hours = parse_hours(value)
    if hours is None:
        return p.t(N_("console.content.hours.closed"))
    return p.t(N_("console.content.hours.span"), opens=hours[0], closes=hours[1])


def describe(key: ContentKey, p: Presenter) -> str:
    """A key as people say it: "Helsestasjon – Hva tjenesten er – bokmål, voksne"."""
    if key.kind == "hours":
        return p.t(N_("console.content.history.hours"), day=p.t(DAY_KEYS.get(key.field, key.field)))
    service = p.topic(key.service)
    field = p.t(FIELD_KEYS[key.field]) if key.field in FIELD_KEYS else key.field
    if key.kind == "contact":
        return f"{service} – {field}"
    register = p.t(REGISTER_KEYS.get(key.register, REGISTER_KEYS["adult"]))
    return f"{service} – {field} – {p.language_name(key.language)}, {register}"
