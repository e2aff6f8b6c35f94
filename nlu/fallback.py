"""The offline matcher: character n-gram nearest neighbours over the Rasa training data.

Used when the Rasa server is down or slow. It is small (built in well under a second from
nlu/data) and answers the common questions; below its threshold it says out_of_scope.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

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


class FallbackMatcher:
    """TF-IDF cosine nearest neighbours with an inverted index; top-k vote per intent."""

    def __init__(self, examples: Iterable[Example], threshold: float = 0.35, k: int = 3) -> None:
        self.threshold = threshold
        self.k = k
        self._intents: list[str] = []
        vectors: list[dict[str, float]] = []
        document_frequency: dict[str, int] = defaultdict(int)
        for example in examples:
            vector = features(example.text)
            if not vector:
                continue
            self._intents.append(example.intent)
            vectors.append(vector)
            for feature in vector:
                document_frequency[feature] += 1
        total = max(1, len(vectors))
        self._idf = {
            f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in document_frequency.items()
        }
        self._index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for row, vector in enumerate(vectors):
            weighted = self._weigh(vector)
            for feature, weight in weighted.items():
                self._index[feature].append((row, weight))

    def _weigh(self, vector: dict[str, float]) -> dict[str, float]:
        weighted = {f: (1 + math.log(c)) * self._idf.get(f, 0.0) for f, c in vector.items()}
        norm = math.sqrt(sum(w * w for w in weighted.values())) or 1.0
        return {f: w / norm for f, w in weighted.items() if w > 0}

    def parse(self, text: str) -> ParsedIntent:
        """The best intent for ``text`` and a similarity-based confidence in [0, 1]."""
        query = self._weigh(features(text))
        scores: dict[int, float] = defaultdict(float)
        for feature, weight in query.items():
            for row, row_weight in self._index.get(feature, ()):
                scores[row] += weight * row_weight
        if not scores:
            return ParsedIntent("out_of_scope", 1.0)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        best = ranked[: self.k]
        votes: dict[str, float] = defaultdict(float)
        for row, score in best:
            votes[self._intents[row]] += score
        intent, _ = max(votes.items(), key=lambda item: item[1])
        top = max(score for row, score in best if self._intents[row] == intent)
        if intent in SMALL_TALK:
            # "hello, where is the health clinic?": the question matters more than the greeting
            for row, score in ranked[: 4 * self.k]:
                if self._intents[row] not in SMALL_TALK and score >= self.threshold:
                    return ParsedIntent(self._intents[row], min(1.0, score))
        if top < self.threshold:
            return ParsedIntent("out_of_scope", 1.0 - top)
        return ParsedIntent(intent, min(1.0, top))
