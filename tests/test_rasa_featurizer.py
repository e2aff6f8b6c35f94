"""Rasa's E5SentenceFeaturizer (nlu/rasa_components), run in the Rasa environment: one
384-dimension sentence vector per message text, the same in training and at inference, and
at inference also in the parse result, where the application reads the very floats it
would have computed itself."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from nlu.embeddings import E5Embedder, e5_available, usable_vector
from nlu.rasa_client import sentence_vector
from nlu.topic_classifier import VECTOR_WEIGHT
from tests.rasa_env import run_in_rasa

pytestmark = pytest.mark.rasa

FEATURIZER_PROBE = textwrap.dedent(
    """
    import json
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from nlu.rasa_components.e5_featurizer import E5SentenceFeaturizer

    config = {**E5SentenceFeaturizer.get_default_config(), "batch_size": 2}
    context = ExecutionContext(GraphSchema({}), node_name="e5")
    featurizer = E5SentenceFeaturizer.create(config, None, None, context)
    texts = ["hvor er helsestasjonen?", "where is the health clinic", "gdzie jest PPT", ""]
    data = TrainingData([Message(data={TEXT: t}) for t in texts])
    featurizer.process_training_data(data)
    [live] = featurizer.process([Message(data={TEXT: "where is the health clinic"})])
    out = []
    for message in [*data.training_examples, live]:
        sequence, sentence = message.get_dense_features(TEXT)
        out.append({
            "sequence": sequence is not None,
            "sentence": None if sentence is None else list(sentence.features.shape),
            "vector": None if sentence is None else sentence.features[0].tolist(),
        })
    print("RESULT " + json.dumps(out))
    output = live.as_dict(only_output_properties=True)  # what POST /model/parse returns
    print("OUTPUT " + json.dumps({k: v for k, v in output.items() if k != "text_tokens"}))
    """
)


def test_the_rasa_featurizer_adds_one_sentence_vector_per_message() -> None:
    completed = run_in_rasa(FEATURIZER_PROBE)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT "))
    results = json.loads(line.removeprefix("RESULT "))
    assert [r["sentence"] for r in results] == [[1, 384]] * 3 + [None] + [[1, 384]]
    assert not any(r["sequence"] for r in results)  # the count vectors carry the sequence
    vectors = np.array([r["vector"] for r in results if r["vector"] is not None])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert np.allclose(vectors[1], vectors[3], atol=1e-5)  # training and inference agree
    line = next(x for x in completed.stdout.splitlines() if x.startswith("OUTPUT "))
    output = json.loads(line.removeprefix("OUTPUT "))
    assert output["text"] == "where is the health clinic"
    sent = sentence_vector(output)  # as the application reads the parse result
    assert sent is not None and sent.text == "where is the health clinic"
    usable = usable_vector(sent, E5Embedder.name, 384)
    assert usable is not None
    assert np.array_equal(usable.vector, np.asarray(results[4]["vector"], dtype=np.float32))
    if e5_available():  # the application's own embedding of the same text: the same floats
        own = E5Embedder().embed(["where is the health clinic"])[0]
        assert np.array_equal(usable.vector, own)
    assert not any("inngang_sentence_vector" in str(r) for r in results[:4])


CLASSIFIER_PROBE = textwrap.dedent(
    """
    import json, tempfile
    from pathlib import Path
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from nlu.topic_classifier import TopicClassifier, _vectorizer

    rng = np.random.default_rng(7)
    texts = ["hvor er helsestasjonen", "helsestasjon åpningstider", "vaksine helsestasjon",
             "hvor er PPT", "PPT utredning", "PPT skole hjelp",
             "hva blir været", "spill musikk", "sett alarm"] * 3
    intents = ["svc_helsestasjon"] * 3 + ["svc_ppt"] * 3 + ["out_of_scope"] * 3
    intents = intents * 3
    centres = {i: rng.normal(size=384) for i in set(intents)}
    vectors = np.array([centres[i] + 0.3 * rng.normal(size=384) for i in intents], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fitted = TopicClassifier.fit(texts, vectors, intents, c=10.0)
    with tempfile.TemporaryDirectory() as directory:
        fitted.save(Path(directory))
        loaded = TopicClassifier.load(Path(directory))
    probe = ["helsestasjonen vaksine", "PPT hjelp"]
    rows = loaded.probabilities(probe, vectors[[0, 3]])
    same = np.allclose(rows, fitted.probabilities(probe, vectors[[0, 3]]), atol=1e-6)
    reference = _vectorizer().fit(texts)
    odd = probe + ["  HVOR   er\tPPT?? ", "a", "é PPT", "😀 vaksine😀", "مرحبا PPT"]

    def dense(text):
        row = np.zeros(len(loaded.vocabulary))
        columns, values = loaded.tfidf(text)
        row[columns] = values
        return row

    grams_equal = np.allclose(
        np.array([dense(t) for t in odd]), reference.transform(odd).toarray(), atol=1e-5
    )
    from scipy import sparse
    from nlu.topic_classifier import _unit
    features = sparse.hstack(
        [
            sparse.csr_matrix(loaded.vector_weight * _unit(vectors[[0, 3]] - loaded.mean)),
            reference.transform(probe),
        ]
    ).tocsr()
    scores = np.asarray(features @ loaded.coef.T) + loaded.intercept
    softmax = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    as_scikit = np.allclose(rows, softmax, atol=1e-5)
    print("RESULT " + json.dumps({
        "best": [loaded.classes[int(np.argmax(r))] for r in rows],
        "sums": rows.sum(axis=1).tolist(), "same": bool(same), "grams": bool(grams_equal),
        "as_scikit": bool(as_scikit), "weight": loaded.vector_weight,
    }))
    """
)


def test_the_topic_classifier_fits_saves_loads_and_reads_a_message_as_it_was_trained() -> None:
    """nlu/topic_classifier.py in the Rasa environment (scikit-learn lives there): what is
    loaded from its arrays gives the same probabilities as what was fitted, its n-gram TF-IDF
    is scikit-learn's (read with NumPy alone, as the application reads it), and a message is read as the intent its words and vector belong to."""
    completed = run_in_rasa(CLASSIFIER_PROBE)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result["best"] == ["svc_helsestasjon", "svc_ppt"]
    assert np.allclose(result["sums"], 1.0, atol=1e-5)
    assert result["same"] and result["grams"] and result["as_scikit"]
    assert result["weight"] == VECTOR_WEIGHT != 1.0  # the e5 block's scale is kept with it
