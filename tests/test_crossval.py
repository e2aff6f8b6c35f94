"""`inngang nlu crossval`: the shipped classifier cross-validated in the Rasa environment
(nlu/crossval.py), here on a small made-up data set whose intents the character n-grams
separate, and one the folds cannot learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.rasa_env import run_in_rasa

pytestmark = pytest.mark.rasa

WORDS = {
    "svc_helsestasjon": ["helsestasjon", "vaksine baby", "jordmor gravid", "helsestasjonen"],
    "svc_ppt": ["ppt sakkyndig", "ppt lese", "dysleksi ppt", "spesialundervisning ppt"],
    "greet": ["hei", "hallo", "heisann", "god dag"],
}


def folds_report(tmp_path: Path, intents: list[str], texts: list[str], vectors: np.ndarray) -> str:
    data = tmp_path / "data.npz"
    np.savez(
        data,
        vectors=vectors.astype(np.float32),
        texts=np.array(texts),
        intents=np.array(intents),
        languages=np.array(["nb"] * len(texts)),
    )
    argv = ["nlu.crossval", "--data", str(data), "--folds", "2"]
    probe = f"import runpy, sys; sys.argv = {argv!r}; runpy.run_module('nlu.crossval', run_name='__main__')"
    return run_in_rasa(probe).stdout


def test_intents_the_ngrams_tell_apart_are_found_in_every_fold(tmp_path: Path) -> None:
    pairs = [(i, f"{w} {n}") for i, ws in WORDS.items() for w in ws for n in ("", "takk")]
    rng = np.random.default_rng(0)
    centres = {intent: rng.normal(size=384) for intent in WORDS}  # meaning: one per intent
    vectors = np.stack([centres[i] + 0.1 * rng.normal(size=384) for i, _ in pairs])
    report = folds_report(tmp_path, [i for i, _ in pairs], [t for _, t in pairs], vectors)
    assert "2-fold" in report and "intent accuracy 100.0%" in report
    assert "per language: nb 100.0%" in report


def test_labels_that_mean_nothing_score_near_chance(tmp_path: Path) -> None:
    texts = [f"melding nummer {n}" for n in range(24)]
    intents = ["svc_nav", "svc_ppt", "greet"] * 8
    noise = np.random.default_rng(1).normal(size=(len(texts), 384))
    report = folds_report(tmp_path, intents, texts, noise)
    accuracy = float(report.split("intent accuracy ")[1].split("%")[0])
    assert accuracy < 70.0
