"""The request to bring someone in (*mitt nettverk*): "kan jeg ta med en venn?", "can my
aunt join?". A small, reviewed phrase list per language (``nlu/trusted_lexicon.yml``),
matched the way the confidentiality worry is (``nlu.confidentiality``): never through the
network or the Rasa model, so the request is heard when the language model is down."""

from __future__ import annotations

import functools
from pathlib import Path

from nlu.phrases import PhraseLexicon

LEXICON = Path(__file__).with_name("trusted_lexicon.yml")


class BringSomeoneCheck(PhraseLexicon):
    """Recognises a request to bring a friend or a trusted adult into the conversation."""

    @classmethod
    def from_file(cls, path: Path = LEXICON) -> BringSomeoneCheck:
        """Load the lexicon YAML."""
        return cls.read(path)

    def check(self, text: str) -> bool:
        """Whether the message asks to bring someone into the conversation."""
        return self.matches(text)


@functools.cache
def default_check() -> BringSomeoneCheck:
    """The shipped lexicon, read once."""
    return BringSomeoneCheck.from_file()
