"""Safe links for the municipality's facts: the phone numbers, e-mail addresses and web
addresses in config.yml, and nothing else.

A channel that can show links (the web chat) asks ``LinkFacts.parts(text)`` for a message's
text cut into plain runs and runs that are one of these facts, each with its ``href``
(``tel:``, ``mailto:`` or ``https:``, built from config.yml, never from the text). Nothing a
citizen typed is ever made a link: only bot and los messages are cut, and only at the
facts' own spelling, with no letter or digit on either side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.settings import Settings

PHONE = re.compile(r"^\+?[0-9][0-9 ]{1,18}[0-9]$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
WEB = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+-]*)?$")
def phone_href(number: str, calling_code: str = "+47") -> str | None:
    """``tel:`` for a number as config.yml writes it ("55 10 20 01" -> tel:+4755102001,
    "113" -> tel:113), or None when it is not a plain number. Eight-digit numbers are dialled
    with the country's calling code (``municipality.calling_code``), so a phone with a foreign
    SIM card reaches them too; short numbers (113, 116 111) are dialled as they are."""
    if not PHONE.match(number):
        return None
    digits = number.replace(" ", "")
    if len(digits) == 8 and not digits.startswith("+"):
        digits = calling_code.replace(" ", "") + digits
    return f"tel:{digits}"


def href_of(fact: str, calling_code: str = "+47") -> str | None:
    """The link for one fact from config.yml, or None when it is not a safe one."""
    if EMAIL.match(fact):
        return f"mailto:{fact}"
    if WEB.match(fact):
        return fact
    return phone_href(fact, calling_code)


class LinkFacts:
    """The facts that may become links, and a pattern that finds them in a text."""

    def __init__(self, hrefs: dict[str, str]) -> None:
        self.hrefs = hrefs
        longest_first = sorted(hrefs, key=len, reverse=True)
        alternatives = "|".join(re.escape(fact) for fact in longest_first)
        self.pattern = (
            re.compile(rf"(?<![\w@.\-/])(?:{alternatives})(?![\w@\-/]|\.\w)") if hrefs else None
        )

    @classmethod
    def of(cls, settings: Settings) -> LinkFacts:
        """Every phone number, e-mail and https address in the configuration."""
        facts: list[str | None] = [line.number for line in settings.crisis_lines]
        facts.append(settings.after_hours.phone)
        facts.append(settings.municipality.web)
        for service in settings.services:
            facts.extend((service.phone, service.after_hours_phone, service.email, service.url))
        return cls.from_facts((f for f in facts if f), settings.municipality.calling_code)

    @classmethod
    def from_facts(cls, facts: Iterable[str], calling_code: str = "+47") -> LinkFacts:
        """Links for these facts (the unsafe ones are left out)."""
        hrefs = {}
        for fact in facts:
            href = href_of(fact.strip(), calling_code)
            if href is not None:
                hrefs[fact.strip()] = href
        return cls(hrefs)

    def parts(self, text: str) -> list[dict[str, str]]:
        """The text as runs: ``{"text"}`` for plain text, ``{"text", "href"}`` for a fact."""
        pattern = self.pattern
        if pattern is None:
            return [{"text": text}] if text else []
        parts: list[dict[str, str]] = []
        at = 0
        for match in pattern.finditer(text):
            if match.start() > at:
                parts.append({"text": text[at : match.start()]})
            parts.append({"text": match.group(0), "href": self.hrefs[match.group(0)]})
            at = match.end()
        if at < len(text):
            parts.append({"text": text[at:]})
        return parts
