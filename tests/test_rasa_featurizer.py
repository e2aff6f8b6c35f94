"""Rasa's E5SentenceFeaturizer (nlu/rasa_components), run in the Rasa environment: one
384-dimension sentence vector per message text, the same in training and at inference, and
at inference also in the parse result, where the application reads the very floats it
would have computed itself."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import numpy as np
import pytest

from bot.settings import PROJECT_ROOT
from nlu.embeddings import E5Embedder, e5_available, usable_vector
from nlu.rasa_client import sentence_vector
from nlu.rasa_runtime import RasaPaths, serving_environment

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
    paths = RasaPaths.from_env()
    python = paths.venv / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Rasa is not installed at {paths.venv}; scripts/setup.sh installs it")
        pytest.skip("Rasa is not installed here (scripts/setup.sh installs it)")
    completed = subprocess.run(
        [str(python), "-c", FEATURIZER_PROBE],
        cwd=PROJECT_ROOT,
        env=serving_environment(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
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
