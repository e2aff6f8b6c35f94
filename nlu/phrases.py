"""A small, reviewed phrase list per language, matched the way the crisis lexicon is
(``nlu.crisis``: the same normalisation, ASCII-folded copies and ``near`` entries; every
language's patterns on every message). Never through the network or the Rasa model, so what
it recognises is heard when the language model is down. The confidentiality worry
(``nlu.confidentiality``) and the request to bring someone in (``nlu.trusted``) are two."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import yaml

from nlu.crisis import _Alternation, _Shortcut, _sources, fold, normalise, variants


@dataclass(frozen=True)
class PhraseLexicon:
    """A lexicon's patterns as two alternations (plain, and with folded copies), each pattern
    compiled once and tried only on a message that has what it needs (``nlu.crisis``'s
    index): one regex of all of them cost 0.25 ms a message, before Rasa was asked."""

    version: str
    plain: _Alternation
    """The normalised patterns, tried on the forms of a message that keep diacritics."""
    folded: _Alternation
    """Those and their ASCII-folded copies, tried on the folded forms."""
    index: _Shortcut
    """Which of ``plain`` and ``folded`` may match in a message."""

    @classmethod
    def from_lexicon(cls, lexicon: Mapping[str, Any]) -> Self:
        """Every language's patterns, as one alternation (and a folded one)."""
        pairs = [
            _sources(entry)
            for patterns in lexicon["languages"].values()
            for entry in patterns or ()
        ]
        plain = _Alternation([p for p, _ in pairs])
        folded = _Alternation([s for pair in pairs for s in pair])
        return cls(str(lexicon["version"]), plain, folded, _Shortcut([plain, folded]))

    @classmethod
    def read(cls, path: Path) -> Self:
        """Load a lexicon YAML."""
        return cls.from_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))

    def compile_all(self) -> None:
        """Compile every pattern now, not on a message's first use of it."""
        self.index.compile_all()

    def matches(self, text: str) -> bool:
        """Whether any pattern is in the message (in any of its forms)."""
        if not text or not text.strip():
            return False
        written, folded = (list(forms) for forms in variants(text))
        plain, folded_ = self.index.chosen(written + folded)
        return self.plain.search_any(plain, written) or self.folded.search_any(folded_, folded)

    def removed(self, text: str) -> str:
        """The normalised message without what the patterns match: the plain ones when one
        is in it, else the folded ones in its folded form."""
        plain = normalise(text)
        if not self.plain.sources:
            return plain
        if self.plain.whole().search(plain):
            return " ".join(self.plain.whole().sub(" ", plain).split())
        return " ".join(self.folded.whole().sub(" ", fold(plain)).split())
