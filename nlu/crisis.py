"""The crisis check: an independent, reviewed multilingual lexicon of patterns.

It runs on every message on every path and never touches the network or the Rasa model.
Recall comes first: every language's patterns are tried on every message (people switch
languages, and detection of a short message can be wrong). Idioms ("jeg døde av latter",
"this homework is killing me") are removed before matching by the lexicon's `not_crisis`
patterns, span by span, so a real crisis in the same message still counts. Harm that is told,
habitual or long-lasting with no danger now (a pupil told the teacher, "when he drinks",
"has cut herself for a year") is removed the same way by the `not_acute` entries, each only
when all of its `when` patterns are in the message too, and none of them when any language's
`acute_now` pattern is ("right now", "is outside the school to fetch her", "won't stop
bleeding", "nowhere to sleep tonight"): then everything counts as before.

Every character is checked, however long the message. To keep that fast, each pattern
carries the literal strings every match of it must contain (read from the parsed regex, see
`required_strings`): a pattern whose strings are not in the message cannot match it and is
not run. Most messages leave a handful of the ~500 patterns to run; the result is exactly
that of running them all.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # the regex parser of CPython 3.11+, only to find the strings a pattern needs
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - then every pattern is simply always run
    _sre = _sre_parser = None

PRIORITY = ("self_harm", "violence_abuse", "acute_danger", "homeless")
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
    marks = {ord(ch): None for ch in set(decomposed) if unicodedata.combining(ch)}
    return decomposed.translate(marks) if marks else decomposed


def variants(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The texts the patterns are tried on: the normalised message with stretched letters
    ("neeeei", "ikkkke") shortened both ways, split into the forms that have diacritics
    (for the patterns as written) and every form ASCII-folded (for the patterns and their
    folded copies). A form without diacritics is only in the second set: no work twice."""
    base = normalise(text)
    forms = {base}
    if _STRETCHED.search(base):
        natural = _STRETCHED.sub(
            lambda m: m.group(1) if m.group(1) in _VOWELS else m.group(1) * 2, base
        )
        forms.update((natural, _STRETCHED.sub(r"\1\1", base), _STRETCHED.sub(r"\1", base)))
    folded = frozenset(fold(form) for form in forms)
    return frozenset(forms - folded), folded


Need = tuple[frozenset[str], ...]
"""What a pattern needs of a text: every match contains a string of each set (none: nothing
known, the pattern is always run)."""


@functools.lru_cache(maxsize=8192)
def required_strings(source: str) -> Need:
    """Sets of strings such that every match of the regex ``source`` contains at least one
    string of each set. Conservative: only literal runs, groups, alternations (each
    alternative must need something) and repeats of at least one are read; anything else
    (classes, ``\\w``, anchors, lookarounds, flags) adds no need, nor does a set with a
    string of one character (in nearly every text, so not worth looking for)."""
    if _sre_parser is None:
        return ()  # pragma: no cover
    try:
        parsed = _sre_parser.parse(source)
    except re.error:
        return ()
    if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
        return ()
    return tuple(dict.fromkeys(need for need in _required(parsed.data) if _telling(need)[0] > 1))


def _required(items: Any) -> list[frozenset[str]]:
    """What a sequence of parsed regex items needs: the needs of each item together."""
    needs: list[frozenset[str]] = []
    run: list[str] = []
    for op, value in [*items, (None, None)]:
        if op is _sre.LITERAL:
            run.append(chr(value))
            continue
        if run:
            needs.append(frozenset({"".join(run)}))
            run = []
        if op is _sre.SUBPATTERN:
            _group, add_flags, del_flags, inner = value
            if not (add_flags or del_flags):
                needs += _required(inner.data)
        elif op is _sre.BRANCH:
            needs += _either([_required(alternative.data) for alternative in value[1]])
        elif op in _REPEATS and value[0] >= 1:
            needs += _required(value[2].data)
        elif op is getattr(_sre, "ATOMIC_GROUP", object()):
            needs += _required(value.data)
    return needs


def _either(each: list[list[frozenset[str]]]) -> list[frozenset[str]]:
    """What an alternation needs, given what each alternative needs: for one set of each
    alternative, their union (so `a.*b|b.*a` needs a string of {a} and one of {b}). Every
    combination while there are few (at most ``_COMBINATIONS``), else the most telling set
    of each alternative; nothing if an alternative needs nothing."""
    if not all(each):
        return []
    if math.prod(len(needs) for needs in each) > _COMBINATIONS:
        each = [[max(needs, key=_telling)] for needs in each]
    unions = {frozenset().union(*sets) for sets in itertools.product(*each)}
    return [u for u in unions if not any(other < u for other in unions)]  # the rest follow


_COMBINATIONS = 64


def _telling(strings: frozenset[str]) -> tuple[int, int]:
    return min(map(len, strings)), -len(strings)


_REPEATS = tuple(
    getattr(_sre, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(_sre, name)
)


class _Alternation:
    """Regex sources tried as one alternation, each with what it needs of a text.

    Each source is compiled once, on first use, and a message runs only the sources that can
    match in it (``_Shortcut``). Compiling the alternation of a message's own candidates
    instead cost 0.5 ms a message: every new message has a new set of candidates."""

    def __init__(self, sources: list[str]) -> None:
        self.sources = tuple(dict.fromkeys(sources))
        self.needs = tuple(required_strings(source) for source in self.sources)
        self._single: list[re.Pattern[str] | None] = [None] * len(self.sources)
        self._whole: re.Pattern[str] | None = None

    def single(self, i: int) -> re.Pattern[str]:
        """Source ``i`` compiled (two threads compiling it at once both get an equal one)."""
        pattern = self._single[i]
        if pattern is None:
            pattern = self._single[i] = re.compile(self.sources[i])
        return pattern

    def search_any(self, chosen: tuple[int, ...], forms: list[str]) -> bool:
        """Whether any of the ``chosen`` sources is found in any of ``forms``: what a search
        with their alternation says."""
        return any(self.single(i).search(form) for i in chosen for form in forms)

    def whole(self) -> re.Pattern[str]:
        """The alternation of every source, compiled once: for substitution, where which
        source matches where matters. Sources that cannot match in a text change nothing of
        what it substitutes there."""
        if self._whole is None:
            self._whole = re.compile("|".join(f"(?:{source})" for source in self.sources))
        return self._whole


_WORD = re.compile(r"\w+")
LONG_TEXT = 2000
"""From this length on, a string is first looked for among the message's distinct words."""
_GRAM = 3
"""Below ``LONG_TEXT``, an index string is looked for only where a run of this many of the
text's characters begins it."""


class _Shortcut:
    """For some alternations, the regex of the sources that may match a text: those with a
    string of each of their required sets in it. The sources that cannot match anywhere in
    the text are left out, which changes no result (for an alternation, not even which
    source matches where). Candidates are found by the strings of each source's most telling
    set, then their other sets are checked."""

    def __init__(self, alternations: list[_Alternation]) -> None:
        self.alternations = alternations
        self._always = [
            tuple(i for i, need in enumerate(a.needs) if not need) for a in alternations
        ]
        self._users: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for a, alternation in enumerate(alternations):
            for i, need in enumerate(alternation.needs):
                for string in sorted(max(need, key=_telling, default=())):
                    self._users[string].append((a, i))
        self._cores = {string: _core(string) for string in self._users}
        self._by_gram: dict[str, list[str]] = defaultdict(list)
        self._short: list[str] = []
        for string in self._users:
            if len(string) >= _GRAM:
                self._by_gram[string[:_GRAM]].append(string)
            else:
                self._short.append(string)

    def present(self, text: str) -> set[str]:
        """The strings of the index found in ``text``. In a short text only those that begin
        with one of its ``_GRAM``-character runs are looked for (no other can be in it); in a
        long one, only those whose longest word run is part of one of its distinct words."""
        if len(text) < LONG_TEXT:
            grams = {text[i : i + _GRAM] for i in range(len(text) - _GRAM + 1)}
            found = {s for s in self._short if s in text}
            for gram in grams.intersection(self._by_gram):
                found.update(s for s in self._by_gram[gram] if s in text)
            return found
        words = "\n".join(set(_WORD.findall(text)))
        return {s for s, core in self._cores.items() if core in words and s in text}

    def compile_all(self) -> None:
        """Compile every source of every alternation now, not on a message's first use."""
        for alternation in self.alternations:
            for i in range(len(alternation.sources)):
                alternation.single(i)

    def chosen(self, forms: list[str]) -> list[tuple[int, ...]]:
        """Per alternation, the sources that may match in ``forms`` of one message. The
        forms are joined by a character no normalised text has: a string spanning two forms
        only makes a pattern run needlessly."""
        text = "\n".join(forms)
        found = self.present(text)
        others: dict[str, bool] = {}  # strings of a need that are not in the index

        def has(string: str) -> bool:
            if string in found:
                return True
            if string in self._users:
                return False
            if string not in others:
                others[string] = string in text
            return others[string]

        chosen = [set(always) for always in self._always]
        for a, i in {user for string in found for user in self._users[string]}:
            if all(any(has(s) for s in strings) for strings in self.alternations[a].needs[i]):
                chosen[a].add(i)
        return [tuple(sorted(c)) for c in chosen]


def _core(string: str) -> str:
    return max(_WORD.findall(string), key=len, default="")


@dataclass(frozen=True)
class _NotAcute:
    """Spans removed (``remove``) only if each of ``when`` is in the form too, and only when no
    ``acute_now`` pattern is in the message (see ``CrisisDetector.check``)."""

    remove: re.Pattern[str]
    when: tuple[re.Pattern[str], ...]


def _either_form(entry: Any) -> re.Pattern[str]:
    """One entry as a regex tried on every form: its normalised and its folded source."""
    return re.compile("|".join(f"(?:{s})" for s in dict.fromkeys(_sources(entry))))


def _not_acute(entry: Any) -> _NotAcute:
    if not (isinstance(entry, Mapping) and "remove" in entry):
        raise ValueError(f"not a not_acute entry: {entry!r}")
    when = entry.get("when") or ()
    return _NotAcute(
        _either_form(entry["remove"]),
        tuple(_either_form(c) for c in ([when] if isinstance(when, str) else when)),
    )


@dataclass(frozen=True)
class _Compiled:
    category: str
    language: str
    pattern: _Alternation
    """The normalised patterns, tried on every form of the message."""
    folded: _Alternation
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


class CrisisDetector:
    """Checks a message against every language's crisis patterns."""

    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        self.version = str(lexicon["version"])
        self.topics = {name: str(spec["topic"]) for name, spec in lexicon["categories"].items()}
        self._checks: list[_Compiled] = []
        exclusions: list[str] = []
        acute_now: list[str] = []
        self._not_acute: list[_NotAcute] = []
        for language, table in lexicon["languages"].items():
            for category, patterns in table.items():
                if category == "not_acute":
                    self._not_acute += [_not_acute(entry) for entry in patterns or ()]
                    continue
                pairs = [_sources(entry) for entry in patterns or ()]
                if category == "acute_now":
                    acute_now += [source for pair in pairs for source in pair]
                    continue
                if category == "not_crisis":
                    exclusions += [source for pair in pairs for source in pair]
                    continue
                if category not in self.topics:
                    raise ValueError(f"{language}: unknown category {category!r}")
                if pairs:
                    plain = _Alternation([p for p, _ in pairs])
                    folded = _Alternation([s for pair in pairs for s in pair])
                    self._checks.append(_Compiled(category, str(language), plain, folded))
        self._checks.sort(key=lambda c: PRIORITY.index(c.category))
        self._exclusions = _Shortcut([_Alternation(exclusions)])
        self._acute_now = _Shortcut([_Alternation(acute_now)])
        self._shortcut = _Shortcut([a for c in self._checks for a in (c.pattern, c.folded)])

    def compile_all(self) -> None:
        """Compile every pattern now (about half a second), not on a message's first use of
        it: for a server before its first citizen (``Understander.warm_up``)."""
        for index in (self._shortcut, self._exclusions, self._acute_now):
            index.compile_all()

    @classmethod
    def from_file(cls, path: Path) -> CrisisDetector:
        """Load the lexicon YAML (nlu/crisis_lexicon.yml)."""
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def is_idiom(self, text: str) -> bool:
        """Whether the message contains a known idiom or joke (used to overrule the model)."""
        forms = list(frozenset.union(*variants(text)))
        [idioms] = self._exclusions.chosen(forms)
        return self._exclusions.alternations[0].search_any(idioms, forms)

    def check(self, text: str) -> CrisisSignal | None:
        """The most serious crisis in the message (all of it, however long), or None."""
        if not text or not text.strip():
            return None
        forms = variants(text)
        originals = [*forms[0], *forms[1]]
        written, folded = list(forms[0]), list(forms[1])
        [idioms] = self._exclusions.chosen(originals)
        if idioms:
            exclusions = self._exclusions.alternations[0].whole()
            written = [exclusions.sub(" ", form) for form in written]
            folded = [exclusions.sub(" ", form) for form in folded]
        if self._not_acute and not self._is_acute(originals):
            written, folded = [self._calm(f) for f in written], [self._calm(f) for f in folded]
        chosen = self._shortcut.chosen(written + folded)  # for each check: plain, folded
        for n, check in enumerate(self._checks):
            if check.pattern.search_any(chosen[2 * n], written) or check.folded.search_any(
                chosen[2 * n + 1], folded
            ):
                return CrisisSignal(
                    check.category, self.topics[check.category], check.language, self.version
                )
        return None

    def _is_acute(self, forms: list[str]) -> bool:
        """Whether a form of the message (idioms not removed) says the danger is now."""
        [acute] = self._acute_now.chosen(forms)
        return self._acute_now.alternations[0].search_any(acute, forms)

    def _calm(self, form: str) -> str:
        """The form without the told, habitual or long-lasting harm whose context is in it."""
        active = [
            e.remove
            for e in self._not_acute
            if e.remove.search(form) and all(c.search(form) for c in e.when)
        ]
        for remove in active:
            form = remove.sub(" ", form)
        return form
