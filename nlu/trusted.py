"""The request to bring someone in (*mitt nettverk*): "kan jeg ta med en venn?", "can my
aunt join?". A small, reviewed phrase list per language (``nlu/trusted_lexicon.yml``),
matched the way the confidentiality worry is (``nlu.confidentiality``): never through the
network or the Rasa model, so the request is heard when the language model is down."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nlu.crisis import _sources, variants

LEXICON = Path(__file__).with_name("trusted_lexicon.yml")


@dataclass(frozen=True)
class BringSomeoneCheck:
    """Recognises a request to bring a friend or a trusted adult into the conversation."""

    version: str
    plain: re.Pattern[str] | None
    folded: re.Pattern[str] | None

    @classmethod
    def from_lexicon(cls, lexicon: Mapping[str, Any]) -> BringSomeoneCheck:
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
    def from_file(cls, path: Path = LEXICON) -> BringSomeoneCheck:
        """Load the lexicon YAML."""
        return cls.from_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))

    def check(self, text: str) -> bool:
        """Whether the message asks to bring someone into the conversation."""
        if not text or not text.strip():
            return False
        written, folded = variants(text)
        if self.plain is not None and any(self.plain.search(form) for form in written):
            return True
        return self.folded is not None and any(self.folded.search(form) for form in folded)


def _compiled(sources: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None


@functools.cache
def default_check() -> BringSomeoneCheck:
    """The shipped lexicon, read once."""
    return BringSomeoneCheck.from_file()
