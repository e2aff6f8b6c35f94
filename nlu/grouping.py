"""Grouping short texts by similarity: e5 sentence vectors when there are any, else the
overlap of their letter trigrams. Greedy and in one pass (a few hundred texts, on a page
view): each text joins the most similar group if it is similar enough, else starts one.
Pure: no I/O; the caller embeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

VECTOR_THRESHOLD = 0.9
"""Cosine similarity of e5-small vectors above which two messages ask the same thing
(unrelated short messages score 0.75-0.88 with this model; rephrasings 0.93 and up)."""
TRIGRAM_THRESHOLD = 0.3
"""Jaccard overlap of letter trigrams above which two messages are taken as alike."""


def trigrams(text: str) -> frozenset[str]:
    """The letter trigrams of a text, lower-cased, words padded with spaces."""
    grams: set[str] = set()
    for word in text.lower().split():
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _by_trigrams(texts: Sequence[str], threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    grams: list[frozenset[str]] = []
    for index, text in enumerate(texts):
        mine = trigrams(text)
        scores = [_jaccard(mine, theirs) for theirs in grams]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= threshold:
            groups[best].append(index)
            grams[best] = grams[best] | mine
        else:
            groups.append([index])
            grams.append(mine)
    return groups


def _by_vectors(vectors: NDArray[np.float32], threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    sums: list[NDArray[np.float32]] = []
    for index, vector in enumerate(vectors):
        best, score = -1, -1.0
        for number, total in enumerate(sums):
            norm = float(np.linalg.norm(total))
            similarity = float(vector @ total) / norm if norm else 0.0
            if similarity > score:
                best, score = number, similarity
        if best >= 0 and score >= threshold:
            groups[best].append(index)
            sums[best] = sums[best] + vector
        else:
            groups.append([index])
            sums.append(vector.astype(np.float32))
    return groups


def group(
    texts: Sequence[str],
    vectors: NDArray[np.float32] | None = None,
    threshold: float | None = None,
) -> list[list[int]]:
    """Indexes of ``texts`` in groups of alike ones, biggest group first (ties: the group
    whose first text came first). ``vectors`` (one L2-normalised row per text) when known."""
    if vectors is not None and len(vectors) == len(texts):
        found = _by_vectors(vectors, VECTOR_THRESHOLD if threshold is None else threshold)
    else:
        found = _by_trigrams(texts, TRIGRAM_THRESHOLD if threshold is None else threshold)
    return sorted(found, key=lambda members: (-len(members), members[0]))
