"""What the console shows, as people say it: statuses, priorities, kinds of danger, services,
languages, channels, consent scopes, roles, senders and times (Oslo time with its zone, and
how long ago), all from the catalogs in the console language. Never an internal value."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from bot.i18n import Catalogs
from bot.notify_dispatch import DANGER_KEYS, KIND_KEYS
from bot.store.enums import OUTCOME_KINDS, Sender
from bot.store.queue_repo import CaseMessage, ConsentRecord, QueueItem
from flows.types import N_

STATUS_KEYS = {
    "open": N_("console.status.open"),
    "claimed": N_("console.status.claimed"),
    "closed": N_("console.status.closed"),
    "withdrawn": N_("console.status.withdrawn"),
}
PRIORITY_KEYS = {"urgent": N_("console.priority.urgent"), "normal": N_("console.priority.normal")}
CHANNEL_KEYS = {
    "web": N_("console.channel.web"),
    "telegram": N_("console.channel.telegram"),
    "sms": N_("console.channel.sms"),
    "whatsapp": N_("console.channel.whatsapp"),
    "jsonl": N_("console.channel.terminal"),
    "terminal": N_("console.channel.terminal"),
}
LANGUAGE_KEYS = {
    "nb": N_("console.language.nb"),
    "nn": N_("console.language.nn"),
    "en": N_("console.language.en"),
    "pl": N_("console.language.pl"),
    "uk": N_("console.language.uk"),
    "ar": N_("console.language.ar"),
    "so": N_("console.language.so"),
}
SCOPE_KEYS = {
    "familielos+services": N_("console.scope.services"),
    "familielos": N_("console.scope.los_only"),
}
ABOUT_KEYS = {
    "self": N_("console.about.self"),
    "child": N_("console.about.child"),
    "other_child": N_("console.about.other_child"),
}
WORRY_KEYS = {"confidentiality": N_("console.worry.confidentiality")}
CONTACT_KEYS = {"chat": N_("console.contact.chat"), "call": N_("console.contact.call")}
ROLE_KEYS = {
    "los": N_("console.role.los"),
    "leader": N_("console.role.leader"),
    "service": N_("console.role.service"),
    "admin": N_("console.role.admin"),
}
SENDER_KEYS = {
    "citizen": N_("console.sender.citizen"),
    "bot": N_("console.sender.bot"),
    "los": N_("console.sender.los"),
    "receipt": N_("console.sender.system"),
    "system": N_("console.sender.system"),
}
OUTCOME_KEYS = {
    "answered": N_("console.outcome.answered"),
    "referred": N_("console.outcome.referred"),
    "familieteam": N_("console.outcome.familieteam"),
    "no_contact": N_("console.outcome.no_contact"),
    "declined": N_("console.outcome.declined"),
    "other": N_("console.outcome.other"),
}
"""How a case can end (the console's list; the stored outcome is the key, then any words)."""
assert tuple(OUTCOME_KEYS) == OUTCOME_KINDS, "the console lists every outcome kind the store knows"
RTL_LANGUAGES = frozenset({"ar"})
NON_LATIN_LANGUAGES = frozenset({"ar", "uk"})
NUMBER_RUN = re.compile(r"\+?\d(?:[\d.\- ]*\d)?")
"""A typed number: "41 22 33 44", "+47 987 65 432", "12.05.2026", "15-17"."""


def isolate_numbers(text: str) -> Markup:
    """The text escaped, each typed number in its own left-to-right island: in a
    right-to-left message "41 22 33 44" would otherwise read "44 33 22 41"."""
    parts, last = [], 0
    for match in NUMBER_RUN.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup('<bdi dir="ltr">%s</bdi>') % match.group(0))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Waiting:
    """How long an open case has waited, against its target."""

    minutes: int
    target: int
    over: bool
    text: str
    """"venter 42 min – over målet"."""


@dataclass(frozen=True)
class When:
    """A moment as the console shows it."""

    iso: str
    """For <time datetime>."""
    absolute: str
    """In Oslo time with the zone: "24.11.2026 kl. 10:30 CET"."""
    relative: str
    """"for 12 min siden"."""


class Presenter:
    """Labels and times in one staff language."""

    def __init__(
        self,
        catalogs: Catalogs,
        language: str,
        timezone: str,
        clock: Callable[[], datetime],
        staff_name: Callable[[str], str],
    ) -> None:
        self.catalogs = catalogs
        self.language = language
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self.staff_name = staff_name

    def t(self, key: str, **params: object) -> str:
        """A catalog text in the console language."""
        return self.catalogs(key, self.language, **params)

    def _label(self, keys: dict[str, str], value: str | None, unknown: str) -> str:
        if value is None:
            return self.t(N_("console.none"))
        key = keys.get(value)
        return self.t(key) if key else self.t(unknown, value=value)

    def status(self, item: QueueItem, me: str) -> str:
        if item.status == "claimed" and item.claimed_by:
            if item.claimed_by == me:
                return self.t(N_("console.status.yours"))
            return self.t(N_("console.status.claimed_by"), name=self.staff_name(item.claimed_by))
        return self._label(STATUS_KEYS, item.status, N_("console.unknown"))

    def priority(self, item: QueueItem) -> str:
        return self._label(PRIORITY_KEYS, item.priority, N_("console.unknown"))

    def danger(self, item: QueueItem) -> str | None:
        key = DANGER_KEYS.get(item.crisis or "")
        return self.t(key) if key else None

    def channel(self, channel: str) -> str:
        return self._label(CHANNEL_KEYS, channel, N_("console.unknown"))

    def language_name(self, code: str | None) -> str:
        return self._label(LANGUAGE_KEYS, code, N_("console.unknown"))

    def topic(self, topic: str | None) -> str:
        if topic is None:
            return self.t(N_("console.topic.none"))
        if topic == "los":  # asked for a person, or many needs at once
            return self.t(N_("console.topic.los"))
        key = f"service.{topic}.name"
        name = self.catalogs.lookup(key, self.language)
        return name if name != key else self.t(N_("console.topic.other"))

    def consent(self, item: QueueItem) -> str:
        if item.anonymous:
            return self.t(N_("console.scope.anonymous"))
        return self._label(SCOPE_KEYS, item.consent_scope, N_("console.unknown"))

    def consent_records(self, records: Sequence[ConsentRecord]) -> list[str]:
        """Each consent given for the case: which text version, in which language, when
        (and when it was withdrawn)."""
        said = []
        for record in records:
            line = self.t(
                N_("console.consent.record"),
                version=record.version,
                language=self.language_name(record.language),
                when=self.when(record.given_at).absolute,
            )
            if record.withdrawn_at is not None:
                withdrawn = self.when(record.withdrawn_at).absolute
                line += ", " + self.t(N_("console.consent.withdrawn"), when=withdrawn)
            said.append(line)
        return said

    def worry(self, worry: str) -> str:
        """A worry the citizen voiced, in the staff language."""
        return self._label(WORRY_KEYS, worry, N_("console.unknown"))

    def about(self, about: str | None) -> str:
        return self._label(ABOUT_KEYS, about, N_("console.unknown"))

    def age(self, band: str | None) -> str:
        if band is None:
            return self.t(N_("console.none"))
        if band.startswith("<"):
            return self.t(N_("console.age.under"), age=band[1:])
        if band.endswith("+"):
            return self.t(N_("console.age.over"), age=band[:-1])
        low, _, high = band.partition("-")
        return self.t(N_("console.age.range"), low=low, high=high)

    def contact(self, contact: str | None, callback: str | None) -> str:
        if contact == "call":
            return self.t(N_("console.contact.call"), number=callback or "-")
        return self._label(CONTACT_KEYS, contact, N_("console.unknown"))

    def role(self, role: str) -> str:
        return self._label(ROLE_KEYS, role, N_("console.unknown"))

    def sender(self, sender: str) -> str:
        return self._label(SENDER_KEYS, sender, N_("console.unknown"))

    def notice_kind(self, kind: str) -> str:
        return self._label(KIND_KEYS, kind, N_("console.unknown"))

    def outcomes(self) -> list[tuple[str, str]]:
        return [(key, self.t(text)) for key, text in OUTCOME_KEYS.items()]

    def waiting(self, item: QueueItem, target: int, urgent_target: int) -> Waiting | None:
        """An open case's waiting time against the target for its priority (None once a los
        has it)."""
        if item.status != "open":
            return None
        goal = urgent_target if item.priority == "urgent" else target
        minutes = max(0, item.waiting_minutes)
        over = minutes > goal
        key = N_("console.wait.over") if over else N_("console.wait.within")
        return Waiting(minutes, goal, over, self.t(key, n=minutes, target=goal))

    def direction(self, language: str | None) -> str:
        return "rtl" if language in RTL_LANGUAGES else "auto"

    def message_language(self, message: CaseMessage, conversation: str) -> str:
        """The language a message is in: its own, else the conversation's; what the los wrote
        in a conversation in another script (Arabic, Ukrainian) in Latin letters is in the
        console's language."""
        language = message.language or conversation
        if message.sender != Sender.LOS or language not in NON_LATIN_LANGUAGES:
            return language
        text = message.text
        letters = [c for c in text if c.isalpha()]
        latin = sum(c.isascii() or "\u00c0" <= c <= "\u024f" for c in letters)
        return self.language if letters and latin > len(letters) / 2 else language

    def when(self, moment: datetime) -> When:
        """A moment in Oslo time with its zone, and how long ago."""
        now = self.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        local = moment.astimezone(self.zone)
        date = f"{local:%d.%m.%Y}"
        absolute = self.t(
            N_("console.time.at"), date=date, time=f"{local:%H:%M}", zone=local.tzname() or ""
        )
        return When(local.isoformat(timespec="minutes"), absolute, self.ago(now - moment))

    def ago(self, elapsed: timedelta) -> str:
        """ "for 12 min siden", "for 2 t 5 min siden", "for 3 dager siden"."""
        minutes = max(0, int(elapsed.total_seconds()) // 60)
        if minutes < 1:
            return self.t(N_("console.time.just_now"))
        if minutes < 60:
            return self.t(N_("console.time.minutes_ago"), n=minutes)
        hours = minutes // 60
        if hours < 24:
            rest = minutes % 60
            if rest:
                return self.t(N_("console.time.hours_minutes_ago"), h=hours, m=rest)
            key = N_("console.time.hour_ago") if hours == 1 else N_("console.time.hours_ago")
            return self.t(key, n=hours)
        days = hours // 24
        key = N_("console.time.day_ago") if days == 1 else N_("console.time.days_ago")
        return self.t(key, n=days)
