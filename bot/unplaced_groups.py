"""The unplaced notes in groups of alike messages, for the editors' page and for
``inngang nlu suggest``: e5 vectors when the model is at hand, else letter trigrams
(``nlu.grouping``). Counts from 1 to 4 are shown as "<5" (``shown_count``)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.unplaced import Unplaced
from nlu.embeddings import Embedder
from nlu.grouping import group

log = logging.getLogger(__name__)
SMALLEST_SHOWN = 5
"""A count below this (and above zero) is shown as "<5": a few messages could point to the
few citizens who wrote them."""


def shown_count(count: int) -> str:
    """A count as a leader's figure shows it: "0", "<5", or the number from 5 up."""
    return f"<{SMALLEST_SHOWN}" if 0 < count < SMALLEST_SHOWN else str(count)


@dataclass(frozen=True)
class NoteGroup:
    """Alike unplaced messages, with what the bot guessed and what citizens chose."""

    notes: tuple[Unplaced, ...]
    guessed: tuple[str, ...]
    """The topics the bot guessed, most often first."""
    chosen: tuple[str, ...]
    """The topics citizens chose when asked, most often first."""

    @property
    def size(self) -> int:
        return len(self.notes)

    @property
    def language(self) -> str:
        """The group's most common language."""
        return Counter(n.language for n in self.notes).most_common(1)[0][0]


def _ranked(values: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(value for value, _ in Counter(v for v in values if v).most_common())


def grouped(notes: Sequence[Unplaced], embedder: Embedder | None = None) -> list[NoteGroup]:
    """The notes in groups of alike messages, biggest first."""
    if not notes:
        return []
    vectors = None
    if embedder is not None:
        try:
            vectors = embedder.embed([n.text for n in notes])
        except Exception as error:  # the trigrams will do; the kind only, never text
            log.warning("unplaced notes not embedded: %s", type(error).__name__)
    groups = group([n.text for n in notes], vectors)
    result = []
    for members in groups:
        chosen = [notes[i] for i in members]
        result.append(
            NoteGroup(
                tuple(chosen),
                _ranked([n.guessed for n in chosen]),
                _ranked([n.chosen for n in chosen]),
            )
        )
    return result
