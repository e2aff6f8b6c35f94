"""The content in force: staff's changes (bot/store/content.py) over the defaults, the
catalogs and config.yml, as the flows read them, through their context's ``t`` (the texts)
and ``settings`` (the contact details and opening hours).

``LiveContent`` keeps the content of the newest revision it read. The process that saves a
change reloads at once; every other replica reads the revision counter at most every
``refresh_s`` seconds (one number) when it handles a message, and reloads only when it
moved. Nothing is read from the database per message otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.areas import DEFAULT_AREA, Areas
from bot.channels.links import LinkFacts
from bot.content_rules import catalog_key, parse_hours
from bot.i18n import Catalogs
from bot.settings import OpeningHours, Settings
from bot.store.content import ContentKey, ContentStore
from flows.commands import CommandWords

REFRESH_S = 2.0
"""How old the content a replica answers with may be, at most (seconds)."""


class ContentCatalogs:
    """The catalogs with staff's service texts in front: ``t(key, language, **params)``.

    A text staff wrote counts for its own language only (a bokmål text is never the
    nynorsk fallback), and is filled in as the catalog's text would be."""

    def __init__(self, base: Catalogs, texts: Mapping[tuple[str, str], str]) -> None:
        self.base = base
        self.texts = texts
        """(language, catalog key) -> the text staff wrote."""

    def __call__(self, key: str, language: str, /, **params: object) -> str:
        own = self.texts.get((language, key))
        if own is None:
            return self.base(key, language, **params)
        return self.base.fill(own, key, language, **params)

    def default(self, key: str, language: str) -> str:
        """The catalog's own text (unfilled), or ``""`` when this language has none."""
        found = self.base.lookup(key, language)
        return "" if found == key else found


@dataclass(frozen=True)
class Effective:
    """The content in force at one revision."""

    revision: int
    values: Mapping[ContentKey, str]
    settings: Settings
    """config.yml with staff's contact details and opening hours."""
    t: ContentCatalogs
    links: LinkFacts
    """Every fact the web chat may link, staff's phone numbers, e-mails and pages too."""
    commands: CommandWords
    """The command words in the supported languages (read from ``t`` once, not per message)."""


def effective(
    settings: Settings, catalogs: Catalogs, values: Mapping[ContentKey, str], revision: int = 0
) -> Effective:
    """The defaults with ``values`` in front (pure: the console's preview uses it too)."""
    texts: dict[tuple[str, str], str] = {}
    contacts: dict[str, dict[str, str | None]] = {}
    weekly = dict(settings.opening_hours.weekly)
    for key, value in values.items():
        if key.kind == "text":
            texts[(key.language, catalog_key(key.service, key.field, key.register))] = value
        elif key.kind == "contact":
            contacts.setdefault(key.service, {})[key.field] = value or None
        elif key.kind == "hours":
            hours = parse_hours(value)
            if hours is None:
                weekly.pop(key.field, None)
            else:
                weekly[key.field] = hours
    services = tuple(
        s.model_copy(update=contacts[s.id]) if s.id in contacts else s for s in settings.services
    )
    opening = OpeningHours(holidays_country=settings.opening_hours.holidays_country, weekly=weekly)
    changed = settings.model_copy(update={"services": services, "opening_hours": opening})
    t = ContentCatalogs(catalogs, texts)
    words = CommandWords.read(t, changed.languages.supported)
    return Effective(revision, dict(values), changed, t, LinkFacts.of(changed), words)


def by_area(
    areas: Areas, catalogs: Catalogs, values: Mapping[ContentKey, str], revision: int
) -> dict[str, Effective]:
    """Every area's content: its settings (config.yml with its overlay) with the staff's
    changes for that area in front (pure)."""
    return {
        area: effective(
            settings, catalogs, {k: v for k, v in values.items() if k.area == area}, revision
        )
        for area, settings in areas.settings.items()
    }


class LiveContent:
    """The content in force in every area, kept up to date with the database's revision."""

    def __init__(
        self,
        settings: Settings,
        catalogs: Catalogs,
        store: ContentStore | None,
        *,
        refresh_s: float = REFRESH_S,
        monotonic: Callable[[], float] = time.monotonic,
        areas: Areas | None = None,
    ) -> None:
        self.settings = settings
        self.catalogs = catalogs
        self.store = store
        self.areas = areas or Areas.of(settings)
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._by_area = by_area(self.areas, catalogs, {}, -1)
        self._links = self._every_link()

    @property
    def _effective(self) -> Effective:
        return self._by_area[DEFAULT_AREA]

    def latest(self, area: str = DEFAULT_AREA) -> Effective:
        """The content read last (no database work: for the opening hours anywhere)."""
        return self._by_area[self.areas.known(area)]

    def current(self, area: str = DEFAULT_AREA) -> Effective:
        """The content in force: the revision is read when the last read is ``refresh_s``
        old, and the content again only when the revision moved."""
        if self.store is None:
            return self.latest(area)
        with self._lock:
            now = self.monotonic()
            if now - self._checked < self.refresh_s:
                return self.latest(area)
            self._checked = now
            if self.store.revision() != self._effective.revision:
                self._load()
            return self.latest(area)

    def reload(self) -> Effective:
        """Read the content again now (after a change saved in this process)."""
        if self.store is None:
            return self._effective
        with self._lock:
            self._checked = self.monotonic()
            self._load()
            return self._effective

    def links(self) -> LinkFacts:
        """Every area's facts a chat may link (any area's numbers are its own)."""
        return self._links

    def _every_link(self) -> LinkFacts:
        if len(self._by_area) == 1:
            return self._effective.links
        merged: dict[str, str] = {}
        for content in self._by_area.values():
            merged.update(content.links.hrefs)
        return LinkFacts(merged)

    def _load(self) -> None:
        assert self.store is not None
        found = self.store.in_force()
        self._by_area = by_area(self.areas, self.catalogs, found.values, found.revision)
        self._links = self._every_link()


class LiveLinks(LinkFacts):
    """The web chat's links to the facts in force (``LinkFacts`` of the latest content)."""

    def __init__(self, content: LiveContent) -> None:
        super().__init__({})
        self.content = content

    def parts(self, text: str) -> list[dict[str, str]]:
        return self.content.links().parts(text)
