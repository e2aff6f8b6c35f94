"""Locale catalogs: per-language lookups from locales/<lang>/LC_MESSAGES/messages.po."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from bot.resources import LOCALES_DIR

RTL_LANGUAGES = frozenset({"ar"})
FALLBACK_CHAIN = {"nn": ("nn", "nb", "en"), "nb": ("nb", "en")}
_ISOLATE_START, _ISOLATE_END = "\u2068", "\u2069"  # FSI ... PDI


def load_catalog(path: Path, language: str) -> dict[str, str]:
    """Read one .po file into a key -> text mapping (untranslated and fuzzy entries skipped)."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    texts: dict[str, str] = {}
    for message in catalog:
        translated = isinstance(message.string, str) and message.string and not message.fuzzy
        if message.id and isinstance(message.id, str) and translated:
            texts[message.id] = str(message.string)
    return texts


@dataclass(frozen=True)
class Catalogs:
    """All languages' texts; call it as ``t(key, language, **params)``."""

    texts: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, languages: Iterable[str], directory: Path = LOCALES_DIR) -> Catalogs:
        """Load the catalogs of these languages (English is always loaded as the fallback)."""
        wanted = set(languages) | {"en"}
        texts = {}
        for language in sorted(wanted):
            path = directory / language / "LC_MESSAGES" / "messages.po"
            texts[language] = load_catalog(path, language) if path.exists() else {}
        return cls(texts)

    def lookup(self, key: str, language: str) -> str:
        """The raw text for a key, falling back through related languages to English."""
        for candidate in FALLBACK_CHAIN.get(language, (language, "en")):
            text = self.texts.get(candidate, {}).get(key)
            if text:
                return text
        return key

    def __call__(self, key: str, language: str, /, **params: object) -> str:
        return self.fill(self.lookup(key, language), key, language, **params)

    def fill(self, text: str, key: str, language: str, /, **params: object) -> str:
        """``text`` (the key's text, or one staff wrote for it) with its placeholders filled
        in; a text that cannot be filled falls back to the key's English text."""
        if not params:
            return text
        if language in RTL_LANGUAGES:
            params = {
                name: f"{_ISOLATE_START}{value}{_ISOLATE_END}" for name, value in params.items()
            }
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return self.lookup(key, "en").format(**params)

    def has(self, key: str, language: str) -> bool:
        """Whether this language's own catalog translates the key."""
        return key in self.texts.get(language, {})
