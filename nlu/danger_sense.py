"""A second, semantic look for danger, beside the crisis lexicon: logistic regression over
the e5 sentence vectors of the training data (the ``crisis`` intent against every other
sentence, the real out-of-scope requests included).

Why: on messages written by people who never saw the lexicon (``tests/data/fresh_blind3``
and the blind crisis set ``tests/data/crisis_blind4``), the lexicon found fewer than half of
the crises said indirectly (pills counted out, a goodbye letter, a child locked in). The
meaning-based score finds most of them, but it is not sure enough to open an urgent case:
it also scores ordinary worries high ("he sleeps badly too", 0.63), and alone it scored 6%
of the real out-of-scope requests of the held-out xSID folds (dialect "cancel all my
reminders") above the threshold. A nearest-neighbour veto (clearly nearer to ordinary
training sentences than to the crises: no offer) keeps those quiet. It never raises the
full crisis answer by itself; it adds the emergency numbers and a "someone is in danger
now" button to the answer (``flows.front_door``), which a citizen in danger can press, and
which costs a worried parent one calm line. It runs in the application, like the lexicon:
never on Rasa.

Beside the training data's ``crisis`` intent it learns the acute messages of the crisis
lexicon's probe files (``nlu/crisis_probes/``, about 1,300 in seven languages, every kind the
lexicon was widened for; ``probe_crises``): on a blind crisis set written after them
(``tests/data/crisis_blind11``) the numbers reached 81 of 84 people in danger instead of 67,
for calm lines on 2.4-2.6% of ordinary fresh messages instead of 0.5-1.3% and on 0.5% of the
held-out xSID requests instead of 0.3% (README, "Safety").

Training takes a few seconds on the cached vectors; the weights are cached beside them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from nlu.embeddings import Embedder, Vectors, cached_array, cached_embeddings, embed_one
from nlu.evaluation import load_probes
from nlu.state import embeddings_dir

PROBES_DIR = Path(__file__).resolve().parent / "crisis_probes"
"""The crisis lexicon's probe files: its tests, and the danger sense's acute examples."""
CALM_GROUP = "not_crisis"

CRISIS_INTENT = "crisis"
NEIGHBOURS = 3
"""How many nearest training sentences of each kind the veto compares."""
VETO_MARGIN = 0.01
"""No offer when the message's nearest ordinary training sentences (a service question, an
out-of-scope request) are nearer than its nearest crises by more than this (mean cosine of
``NEIGHBOURS``)."""
THRESHOLD = 0.4
"""Lowered from 0.5 on 2026-11-27: on the development sets it shows the numbers to 80 of 84
people in danger of tests/data/crisis_blind4 (from 78) for 2 to 4 more calm lines in 287
ordinary messages and 3 in the 1,532 held-out xSID requests; on the blind sets from another
writer (tests/data/crisis_blind6, fresh_blind5) to 81 of 84 and 27 of 28 (from 78 and 24),
for offers on 33 of 84 near misses and 10 of 287 ordinary messages. A missed person in
danger costs more than a calm line. See scripts/danger_figures.py and the README."""
ITERATIONS = 400
L2 = 1e-3


def probe_crises(directory: Path = PROBES_DIR) -> list[str]:
    """The acute messages of every probe file (every language and group but the calm one)."""
    probes = load_probes(sorted(directory.glob("*.yml")))
    return [
        text
        for groups in probes.values()
        for group, texts in sorted(groups.items())
        if group != CALM_GROUP
        for text in texts
    ]


def with_probe_crises(
    embedder: Embedder,
    vectors: Vectors,
    intents: Sequence[str],
    cache_dir: Path | None = None,
    directory: Path = PROBES_DIR,
) -> tuple[Vectors, list[str]]:
    """The training data's vectors and intents with the probes' acute messages added as
    ``crisis`` (their vectors cached like the training data's)."""
    texts = probe_crises(directory)
    if not texts:
        return vectors, list(intents)
    extra = cached_embeddings(embedder, texts, cache_dir)
    return np.vstack([vectors, extra]), [*intents, *([CRISIS_INTENT] * len(texts))]


def fit(vectors: Vectors, labels: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Class-balanced logistic regression by Adam, deterministic (zero start, full batch)."""
    rows = len(labels)
    positive = max(1.0, float(labels.sum()))
    weights = np.where(labels == 1, rows / (2 * positive), rows / (2 * max(1.0, rows - positive)))
    x = vectors.astype(np.float64)
    w, b = np.zeros(x.shape[1]), 0.0
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    step, beta1, beta2 = 0.025, 0.9, 0.999
    for t in range(1, ITERATIONS + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - labels) * weights
        gw, gb = x.T @ g / rows + L2 * w, float(g.mean())
        m, v = beta1 * m + (1 - beta1) * gw, beta2 * v + (1 - beta2) * gw**2
        mb, vb = beta1 * mb + (1 - beta1) * gb, beta2 * vb + (1 - beta2) * gb**2
        scale = step * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        w -= scale * m / (np.sqrt(v) + 1e-8)
        b -= float(scale * mb / (np.sqrt(vb) + 1e-8))
    return w, b


class DangerSense:
    """How much a message reads like acute danger, by meaning (0 to 1)."""

    def __init__(
        self,
        embedder: Embedder,
        vectors: Vectors,
        intents: Sequence[str],
        *,
        threshold: float = THRESHOLD,
        cache_dir: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        labels = np.array([1.0 if i == CRISIS_INTENT else 0.0 for i in intents])
        self.w, self.b = _cached_fit(vectors, labels, cache_dir)
        kinds = np.array(intents)
        self.crises = vectors[kinds == CRISIS_INTENT]
        self.ordinary = vectors[kinds != CRISIS_INTENT]

    def score(self, text: str) -> float:
        """The probability-like score that ``text`` tells of danger now."""
        if not text.strip():
            return 0.0
        return self._score(embed_one(self.embedder, text))

    def _score(self, vector: NDArray[np.float32]) -> float:
        return float(1.0 / (1.0 + np.exp(-(vector.astype(np.float64) @ self.w + self.b))))

    def possible(self, text: str, vector: NDArray[np.float32] | None = None) -> bool:
        """Whether to offer the emergency numbers with the answer: the score reaches the
        threshold, and the message is not clearly nearer to ordinary sentences than to the
        crises (the veto that keeps "cancel all my reminders" and "he sleeps badly too",
        said in an intake, quiet). ``vector``: the text's own when known (computed by the
        Rasa server), else it is embedded here."""
        if not text.strip():
            return False
        return self.offers(embed_one(self.embedder, text) if vector is None else vector)

    def offers(self, vector: NDArray[np.float32]) -> bool:
        """``possible`` for a text already embedded."""
        if self._score(vector) < self.threshold:
            return False
        return _nearest(self.ordinary, vector) <= _nearest(self.crises, vector) + VETO_MARGIN


def _nearest(rows: Vectors, vector: NDArray[np.float32]) -> float:
    """The mean cosine of ``vector`` to its ``NEIGHBOURS`` nearest rows (0 without rows)."""
    if len(rows) == 0:
        return 0.0
    cosines = rows @ vector
    top = np.partition(cosines, -min(NEIGHBOURS, len(cosines)))[-NEIGHBOURS:]
    return float(top.mean())


def _cached_fit(
    vectors: Vectors, labels: NDArray[np.float64], cache_dir: Path | None
) -> tuple[NDArray[np.float64], float]:
    digest = hashlib.sha256(f"{ITERATIONS}/{L2}".encode())
    digest.update(np.ascontiguousarray(vectors).tobytes())
    digest.update(labels.tobytes())
    path = (cache_dir or embeddings_dir()) / f"danger-{digest.hexdigest()[:24]}.npy"

    def compute() -> NDArray[np.float64]:
        w, b = fit(vectors, labels)
        return np.append(w, b)

    stored = cached_array(path, (vectors.shape[1] + 1,), compute)
    return np.asarray(stored[:-1], dtype=np.float64), float(stored[-1])
