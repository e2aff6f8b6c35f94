"""The Rasa model's topic classifier read by the application itself, so that a dead Rasa server
costs (almost) nothing: the same arrays from the same model file, over the same e5 vector.

The model file is a tar archive Rasa writes; the classifier's two files sit in its component
directory (``topic_classifier.npz`` and ``.json``). They are read from the archive in memory,
nothing is unpacked. The model may appear only after the application started (``inngang run``
trains it when the data changed), so the file is looked for when first needed, and again
later while it is missing.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nlu.embeddings import Embedder, embed_one
from nlu.rasa_client import RANKED, ParsedIntent
from nlu.topic_classifier import TopicClassifier

log = logging.getLogger(__name__)
ARRAYS = "topic_classifier.npz"
META = "topic_classifier.json"
LOOK_AGAIN_S = 30.0
"""While the model file is missing or unreadable, how long before it is looked for again."""


def read_from_model(model: Path) -> TopicClassifier | None:
    """The topic classifier inside a Rasa model archive; None when it has none (another
    pipeline, e.g. DIET)."""
    with tarfile.open(model, "r:*") as archive:
        members = {m.name.rsplit("/", 1)[-1]: m for m in archive.getmembers() if m.isfile()}
        if ARRAYS not in members or META not in members:
            return None
        arrays_file = archive.extractfile(members[ARRAYS])
        meta_file = archive.extractfile(members[META])
        if arrays_file is None or meta_file is None:
            return None
        arrays = np.load(io.BytesIO(arrays_file.read()))
        meta = json.loads(meta_file.read().decode("utf-8"))
    return TopicClassifier.from_saved(arrays, meta)


class LocalModel:
    """The model's classifier, loaded on first use from ``model_file()`` (the current model's
    path, or None when there is none); ``parse`` answers as the Rasa server would."""

    def __init__(
        self,
        model_file: Callable[[], Path | None],
        embedder: Embedder,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.embedder = embedder
        self._model_file = model_file
        self._clock = clock
        self._classifier: TopicClassifier | None = None
        self._look_again_at = 0.0
        self._lock = threading.Lock()

    def classifier(self) -> TopicClassifier | None:
        """The classifier, read from the model file the first time one is there."""
        if self._classifier is not None:
            return self._classifier
        with self._lock:
            if self._classifier is not None or self._clock() < self._look_again_at:
                return self._classifier
            path = self._model_file()
            try:
                self._classifier = read_from_model(path) if path and path.exists() else None
            except (OSError, tarfile.TarError, KeyError, ValueError) as error:
                log.warning("the NLU model's classifier could not be read: %s", error)
                self._classifier = None
            if self._classifier is None:
                self._look_again_at = self._clock() + LOOK_AGAIN_S
            return self._classifier

    def parse(self, text: str, vector: np.ndarray | None = None) -> ParsedIntent | None:
        """The intent, its confidence and the runners-up, as the Rasa server's
        classifier gives them; None without a model. Embeds ``text`` unless its ``vector``
        is given (~15 ms: call on a worker thread)."""
        classifier = self.classifier()
        if classifier is None:
            return None
        if vector is None:
            vector = embed_one(self.embedder, text)
        row = classifier.probabilities([text], np.asarray(vector, dtype=np.float32)[None, :])[0]
        order = np.argsort(-row, kind="stable")[:RANKED]
        ranked = [(classifier.classes[i], float(row[i])) for i in order]
        return ParsedIntent(ranked[0][0], ranked[0][1], tuple(ranked[1:]))
