"""The crisis check: an independent, reviewed multilingual lexicon of patterns.

It runs on every message on every path and never touches the network or the Rasa model.
Recall comes first: every language's patterns are tried on every message (people switch
languages, and detection of a short message can be wrong). Idioms ("jeg døde av latter",
"this homework is killing me") are removed before matching by the lexicon's `not_crisis`
patterns, span by span, so a real crisis in the same message still counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PRIORITY = ("self_harm", "violence_abuse", "acute_danger", "homeless")
MAX_CHECKED_CHARS = 4000
_CHAR_MAP = str.maketrans(
    {
        "’": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "‘": "'",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "\u0640": None,  # tatweel
    }
)
_FOLD_MAP = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ł": "l", "ß": "ss"})
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_WHITESPACE = re.compile(r"\s+")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_VOWELS = frozenset("aeiouyæøåąęóіїєаеиоуяюы")


@dataclass(frozen=True)
class CrisisSignal:
    """A crisis recognised in a message: which kind, the service it belongs to, which
    language's pattern matched, and the lexicon version (recorded with the flag)."""

    category: str
    topic: str
    language: str
    lexicon_version: str


def normalise(text: str) -> str:
    """Casefold, NFKC, unify apostrophes and Arabic letter variants, drop diacritics marks,
    invisible and bidi control characters, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_CHAR_MAP)
    text = _ARABIC_MARKS.sub("", _INVISIBLE.sub("", text))
    return _WHITESPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """An ASCII-leaning variant: æ->ae, ø->o, å->a, ł->l, combining marks removed
    (patterns are folded the same way, so both sides agree)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_MAP))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def variants(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The texts the patterns are tried on: the normalised message with stretched letters
    ("neeeei", "ikkkke") shortened both ways, split into the forms that have diacritics
    (for the patterns as written) and every form ASCII-folded (for the patterns and their
    folded copies). A form without diacritics is only in the second set: no work twice."""
    base = normalise(text[:MAX_CHECKED_CHARS])
    forms = {base}
    if _STRETCHED.search(base):
        natural = _STRETCHED.sub(
            lambda m: m.group(1) if m.group(1) in _VOWELS else m.group(1) * 2, base
        )
        forms.update((natural, _STRETCHED.sub(r"\1\1", base), _STRETCHED.sub(r"\1", base)))
    folded = frozenset(fold(form) for form in forms)
    return frozenset(forms - folded), folded


@dataclass(frozen=True)
class _Compiled:
    category: str
    language: str
    pattern: re.Pattern[str]
    """The normalised patterns, tried on every form of the message."""
    folded: re.Pattern[str]
    """Those and their ASCII-folded copies, tried on the folded forms."""


def near(first: str, second: str, within: int) -> str:
    """A regex for two (normalised) patterns at most ``within`` words apart, in either order:
    free word order ("вітчим мене б'є", "pappa drikker og slår oss") without listing every
    permutation."""
    gap = rf"\W+(?:\w+\W+){{0,{within}}}?"
    return rf"(?:{first}){gap}(?:{second})|(?:{second}){gap}(?:{first})"


def _sources(entry: Any) -> tuple[str, str]:
    """The regex source of one lexicon entry (a pattern, or ``{near: [a, b], within: n}``),
    normalised, and its ASCII-folded variant (for the folded forms of a message only: a
    folded lookbehind such as "(?<!med a )" must not be tried on "med å")."""
    if isinstance(entry, str):
        source = normalise(entry)
        return source, fold(source)
    if isinstance(entry, Mapping) and "near" in entry:
        first, second = (normalise(str(part)) for part in entry["near"])
        within = int(entry.get("within", 3))
        return near(first, second, within), near(fold(first), fold(second), within)
    raise ValueError(f"not a crisis pattern: {entry!r}")


def _either(sources: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{s})" for s in dict.fromkeys(sources)) or r"(?!x)x")


class CrisisDetector:
    """Checks a message against every language's crisis patterns."""

    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        self.version = str(lexicon["version"])
        self.topics = {name: str(spec["topic"]) for name, spec in lexicon["categories"].items()}
        self._checks: list[_Compiled] = []
        exclusions: list[str] = []
        for language, table in lexicon["languages"].items():
            for category, patterns in table.items():
                pairs = [_sources(entry) for entry in patterns or ()]
                if category == "not_crisis":
                    exclusions += [source for pair in pairs for source in pair]
                    continue
                if category not in self.topics:
                    raise ValueError(f"{language}: unknown category {category!r}")
                if pairs:
                    plain = _either([p for p, _ in pairs])
                    folded = _either([s for pair in pairs for s in pair])
                    self._checks.append(_Compiled(category, str(language), plain, folded))
        self._checks.sort(key=lambda c: PRIORITY.index(c.category))
        self._exclusions = _either(exclusions)

    @classmethod
    def from_file(cls, path: Path) -> CrisisDetector:
        """Load the lexicon YAML (nlu/crisis_lexicon.yml)."""
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def is_idiom(self, text: str) -> bool:
        """Whether the message contains a known idiom or joke (used to overrule the model)."""
        written, folded = variants(text)
        return any(self._exclusions.search(form) for form in written | folded)

    def check(self, text: str) -> CrisisSignal | None:
        """The most serious crisis in the message, or None."""
        if not text or not text.strip():
            return None
        written, folded = (
            [self._exclusions.sub(" ", form) for form in forms] for forms in variants(text)
        )
        for check in self._checks:
            if any(check.pattern.search(f) for f in written) or any(
                check.folded.search(f) for f in folded
            ):
                return CrisisSignal(
                    check.category, self.topics[check.category], check.language, self.version
                )
        return None
