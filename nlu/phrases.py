"""A small, reviewed phrase list per language, matched the way the crisis lexicon is
(``nlu.crisis``: the same normalisation, ASCII-folded copies and ``near`` entries; every
language's patterns on every message). Never through the network or the Rasa model, so what
it recognises is heard when the language model is down. The confidentiality worry
(``nlu.confidentiality``) and the request to bring someone in (``nlu.trusted``) are two."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import yaml

from nlu.crisis import _sources, variants


@dataclass(frozen=True)
class PhraseLexicon:
    """A lexicon's patterns compiled into one alternation, and one of them folded."""

    version: str
    plain: re.Pattern[str] | None
    """The normalised patterns, tried on the forms of a message that keep diacritics."""
    folded: re.Pattern[str] | None
    """Those and their ASCII-folded copies, tried on the folded forms."""

    @classmethod
    def from_lexicon(cls, lexicon: Mapping[str, Any]) -> Self:
        """Compile every language's patterns into one alternation (and a folded one)."""
        pairs = [
            _sources(entry)
            for patterns in lexicon["languages"].values()
            for entry in patterns or ()
        ]
        plain = [p for p, _ in pairs]
        folded = list(dict.fromkeys(s for pair in pairs for s in pair))
        return cls(str(lexicon["version"]), _compiled(plain), _compiled(folded))

    @classmethod
    def read(cls, path: Path) -> Self:
        """Load a lexicon YAML."""
        return cls.from_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))

    def matches(self, text: str) -> bool:
        """Whether any pattern is in the message (in any of its forms)."""
        if not text or not text.strip():
            return False
        written, folded = variants(text)
        if self.plain is not None and any(self.plain.search(form) for form in written):
            return True
        return self.folded is not None and any(self.folded.search(form) for form in folded)


def _compiled(sources: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None
