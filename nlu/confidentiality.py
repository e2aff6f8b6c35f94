"""The confidentiality worry: "can I talk to someone without my parents knowing?".

A small, reviewed phrase list per language (``nlu/confidentiality_lexicon.yml``), matched the
way the crisis lexicon is (``nlu.crisis``: the same normalisation, ASCII-folded copies and
``near`` entries; every language's patterns on every message). It never touches the network
or the Rasa model, so a young person's worry is heard even when the language model is down.
"""

from __future__ import annotations

import functools
from pathlib import Path

from nlu.phrases import PhraseLexicon

CONFIDENTIALITY = "confidentiality"
"""The worry's name: on ``Understanding.worry``, in the intake draft and on the case."""
LEXICON = Path(__file__).with_name("confidentiality_lexicon.yml")


class WorryCheck(PhraseLexicon):
    """Recognises the confidentiality worry in a message, in any of the languages."""

    @classmethod
    def from_file(cls, path: Path = LEXICON) -> WorryCheck:
        """Load the lexicon YAML."""
        return cls.read(path)

    def check(self, text: str) -> str | None:
        """``CONFIDENTIALITY`` when the message carries the worry, else None."""
        return CONFIDENTIALITY if self.matches(text) else None

    def without(self, text: str) -> str:
        """The message with the worry's words taken out (normalised): what else it asks,
        for the intent ("... uten at foreldrene mine får vite det" -> "kan jeg snakke med
        noen det")."""
        return self.removed(text)


@functools.cache
def default_check() -> WorryCheck:
    """The shipped lexicon, read once."""
    return WorryCheck.from_file()
