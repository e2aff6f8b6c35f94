"""The confidentiality worry: "can I talk to someone without my parents knowing?".

A small, reviewed phrase list per language (``nlu/confidentiality_lexicon.yml``), matched the
way the crisis lexicon is (``nlu.crisis``: the same normalisation, ASCII-folded copies and
``near`` entries; every language's patterns on every message). It never touches the network
or the Rasa model, so a young person's worry is heard even when the language model is down.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nlu.crisis import _sources, fold, normalise, variants

CONFIDENTIALITY = "confidentiality"
"""The worry's name: on ``Understanding.worry``, in the intake draft and on the case."""
LEXICON = Path(__file__).with_name("confidentiality_lexicon.yml")


@dataclass(frozen=True)
class WorryCheck:
    """Recognises the confidentiality worry in a message, in any of the languages."""

    version: str
    plain: re.Pattern[str] | None
    """The normalised patterns, tried on the forms of a message that keep diacritics."""
    folded: re.Pattern[str] | None
    """Those and their ASCII-folded copies, tried on the folded forms."""

    @classmethod
    def from_lexicon(cls, lexicon: Mapping[str, Any]) -> WorryCheck:
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
    def from_file(cls, path: Path = LEXICON) -> WorryCheck:
        """Load the lexicon YAML."""
        return cls.from_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))

    def check(self, text: str) -> str | None:
        """``CONFIDENTIALITY`` when the message carries the worry, else None."""
        if not text or not text.strip():
            return None
        written, folded = variants(text)
        if self.plain is not None and any(self.plain.search(form) for form in written):
            return CONFIDENTIALITY
        if self.folded is not None and any(self.folded.search(form) for form in folded):
            return CONFIDENTIALITY
        return None

    def without(self, text: str) -> str:
        """The message with the worry's words taken out (normalised): what else it asks,
        for the intent ("... uten at foreldrene mine får vite det" -> "kan jeg snakke med
        noen det")."""
        plain = normalise(text)
        if self.plain is not None and self.plain.search(plain):
            return " ".join(self.plain.sub(" ", plain).split())
        folded = fold(plain)
        if self.folded is not None:
            return " ".join(self.folded.sub(" ", folded).split())
        return plain


def _compiled(sources: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None


@functools.cache
def default_check() -> WorryCheck:
    """The shipped lexicon, read once."""
    return WorryCheck.from_file()
