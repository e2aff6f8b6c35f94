"""What the case record says, section by section, in the staff member's console language
(every heading and label from the catalogs) with the citizen's words verbatim. Layout is
``pdf``'s job; this module decides the content, and what an anonymous case leaves out."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.console.present import OUTCOME_KEYS, SCOPE_KEYS, STATUS_KEYS, Presenter
from bot.store.archive_repo import CaseRecord
from bot.store.queue_repo import ConsentRecord
from flows.types import N_


@dataclass(frozen=True)
class Fact:
    """A label and its value."""

    label: str
    value: str


@dataclass(frozen=True)
class Entry:
    """A message or a note: who and when, then the words as written."""

    meta: str
    text: str
    rtl: bool
    """Written right to left (its first strong letter is Arabic or Hebrew)."""


@dataclass(frozen=True)
class Section:
    """A heading with facts and entries; ``empty`` is said when it has neither."""

    title: str
    facts: tuple[Fact, ...] = ()
    entries: tuple[Entry, ...] = ()
    empty: str = ""


@dataclass(frozen=True)
class Document:
    """The case record, ready to lay out."""

    language: str
    reference: str
    municipality: str
    title: str
    classification: str
    exported: str
    sections: tuple[Section, ...]
    page_label: Callable[[int, int], str]
    """"Side 2 av 5"."""


def right_to_left(text: str) -> bool:
    """Whether text reads right to left: its first strong letter decides, as dir="auto"."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


@dataclass(frozen=True)
class Composer:
    """Writes the record of one case in one staff language."""

    present: Presenter
    municipality: str

    def _t(self, key: str, **params: object) -> str:
        return self.present.t(key, **params)

    def _at(self, moment: datetime | None) -> str:
        return self.present.when(moment).absolute if moment else self._t(N_("console.none"))

    def compose(self, record: CaseRecord, exported_by: str, now: datetime) -> Document:
        """The whole record, as exported by this staff member now."""
        reference = record.view.item.reference
        return Document(
            language=self.present.language,
            reference=reference,
            municipality=self.municipality,
            title=self._t(N_("console.archive.title"), reference=reference),
            classification=self._t(N_("console.archive.classification")),
            exported=self._t(
                N_("console.archive.exported"),
                name=self.present.staff_name(exported_by),
                staff=exported_by,
                when=self._at(now),
            ),
            sections=(
                *self.strengths(record),
                self.intake(record),
                self.words(record),
                self.consent(record),
                self.conversation(record),
                self.own_voice(record),
                self.case_log(record),
                self.outcome(record),
            ),
            page_label=lambda page, pages: self._t(
                N_("console.archive.page"), page=page, pages=pages
            ),
        )

    def intake(self, record: CaseRecord) -> Section:
        """The summary of the intake: when, how, what about, whom, how to reach them."""
        view, p = record.view, self.present
        item = view.item
        contact = (
            self._t(N_("console.archive.anonymous"))
            if item.anonymous
            else p.contact(view.contact, view.callback)
        )
        priority = p.priority(item)
        danger = p.danger(item)
        facts = [
            Fact(self._t(N_("console.archive.reference")), item.reference),
            Fact(self._t(N_("console.fact.came")), self._at(item.created_at)),
            Fact(
                self._t(N_("console.fact.channel")),
                f"{p.channel(item.channel)}, {p.language_name(item.language)}",
            ),
            Fact(self._t(N_("console.fact.topic")), p.topic(item.topic)),
            Fact(self._t(N_("console.fact.about")), p.about(view.about)),
            Fact(self._t(N_("console.fact.age")), p.age(view.age_band)),
            Fact(self._t(N_("console.fact.contact")), contact),
            Fact(
                self._t(N_("console.archive.priority")),
                f"{priority} ({danger})" if danger else priority,
            ),
            Fact(
                self._t(N_("console.archive.holder")),
                p.staff_name(item.claimed_by) if item.claimed_by else self._t(N_("console.none")),
            ),
            Fact(self._t(N_("console.archive.claimed")), self._at(record.claimed_at)),
        ]
        if item.previous_reference:
            facts.append(Fact(self._t(N_("console.fact.previous")), item.previous_reference))
        if view.worries:
            worries = "; ".join(p.worry(w) for w in view.worries)
            facts.append(Fact(self._t(N_("console.fact.worry")), worries))
        return Section(self._t(N_("console.archive.intake")), facts=tuple(facts))

    def strengths(self, record: CaseRecord) -> tuple[Section, ...]:
        """What the child likes and is good at or proud of, verbatim: first, when told."""
        told = record.view.strengths
        if not told:
            return ()
        entry = Entry("", told, right_to_left(told))
        return (Section(self._t(N_("console.strengths")), entries=(entry,)),)

    def words(self, record: CaseRecord) -> Section:
        """What the citizen wrote when asking for a los, verbatim."""
        entries = tuple(Entry("", line, right_to_left(line)) for line in record.view.description)
        return Section(
            self._t(N_("console.words")),
            entries=entries,
            empty=self._t(N_("console.none")),
        )

    def consent(self, record: CaseRecord) -> Section:
        """The consent given for the case: scope, text version, given, withdrawn."""
        title = self._t(N_("console.fact.consent"))
        if record.view.item.anonymous:
            return Section(title, empty=self._t(N_("console.archive.consent.anonymous")))
        facts: list[Fact] = []
        for consent in record.consents:
            facts.extend(self._consent_facts(consent))
        return Section(title, facts=tuple(facts), empty=self._t(N_("console.archive.consent.none")))

    def _consent_facts(self, consent: ConsentRecord) -> list[Fact]:
        key = SCOPE_KEYS.get(consent.scope)
        withdrawn = (
            self._at(consent.withdrawn_at)
            if consent.withdrawn_at
            else self._t(N_("console.archive.consent.not_withdrawn"))
        )
        return [
            Fact(
                self._t(N_("console.archive.consent.scope")),
                self._t(key) if key else consent.scope,
            ),
            Fact(
                self._t(N_("console.archive.consent.version")),
                f"{consent.version} ({self.present.language_name(consent.language)})",
            ),
            Fact(self._t(N_("console.archive.consent.given")), self._at(consent.given_at)),
            Fact(self._t(N_("console.archive.consent.withdrawn")), withdrawn),
        ]

    def conversation(self, record: CaseRecord) -> Section:
        """Every message in order: sender, Oslo time, language, the words verbatim."""
        p, language = self.present, record.view.item.language
        voiced = {a.message_id for r in record.view.own_voice for a in r.answers if a.message_id}
        entries = []
        for m in record.view.conversation:
            marks = []
            if m.button:
                marks.append(self._t(N_("console.pressed")))
            if m.id in voiced:
                marks.append(self._t(N_("console.ownvoice.label")))
            if m.before_case:
                marks.append(self._t(N_("console.archive.before_case")))
            if m.author is not None:  # somebody the young person invited (mitt nettverk)
                marks.append(self._t(N_("console.trusted.author"), name=m.author))
            meta = self._t(
                N_("console.archive.message_meta"),
                sender=p.sender(m.sender),
                when=self._at(m.at),
                language=p.language_name(p.message_language(m, language)),
            )
            entries.append(Entry(" ".join([meta, *marks]), m.text, right_to_left(m.text)))
        return Section(
            self._t(N_("console.conversation")),
            entries=tuple(entries),
            empty=self._t(N_("console.conversation.none")),
        )

    def own_voice(self, record: CaseRecord) -> Section:
        """The child's own words: the answers to the questions sent before a meeting, each
        after its question, with its Oslo time."""
        entries = tuple(
            Entry(
                self._t(
                    N_("console.archive.ownvoice_meta"), question=a.question, when=self._at(a.at)
                ),
                a.text,
                right_to_left(a.text),
            )
            for r in record.view.own_voice
            for a in r.answers
            if a.text is not None
        )
        return Section(
            self._t(N_("console.ownvoice.label")),
            entries=entries,
            empty=self._t(N_("console.ownvoice.none_yet")),
        )

    def case_log(self, record: CaseRecord) -> Section:
        """The notes of the case log (never sent to the citizen), with author and time."""
        entries = tuple(
            Entry(
                self._t(
                    N_("console.archive.note_meta"),
                    author=self.present.staff_name(n.author),
                    when=self._at(n.at),
                ),
                n.text,
                right_to_left(n.text),
            )
            for n in record.view.notes
        )
        return Section(
            self._t(N_("console.archive.log")),
            entries=entries,
            empty=self._t(N_("console.archive.log.none")),
        )

    def outcome(self, record: CaseRecord) -> Section:
        """How the case ended and when (or that it has not ended yet)."""
        item, title = record.view.item, self._t(N_("console.archive.outcome"))
        status = STATUS_KEYS.get(item.status)
        facts = [
            Fact(
                self._t(N_("console.archive.status")),
                self._t(status) if status else str(item.status),
            )
        ]
        if record.closed_at is None:
            facts.append(Fact(title, self._t(N_("console.archive.not_closed"))))
            return Section(title, facts=tuple(facts))
        key, _, words = (record.outcome or "").partition(": ")
        if key == "other":
            said = self._t(N_("console.archive.outcome.other"))
        elif key in OUTCOME_KEYS:
            said = self._t(OUTCOME_KEYS[key])
        else:
            said, words = record.outcome or self._t(N_("console.none")), ""
        facts.append(Fact(self._t(N_("console.archive.outcome")), said))
        if words:
            facts.append(Fact(self._t(N_("console.archive.outcome.words")), words))
        facts.append(Fact(self._t(N_("console.archive.closed")), self._at(record.closed_at)))
        return Section(title, facts=tuple(facts))
