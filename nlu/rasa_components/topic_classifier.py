"""A Rasa intent classifier: ``nlu.topic_classifier.TopicClassifier`` (logistic regression on
the centred e5 sentence vector from ``E5SentenceFeaturizer`` beside character n-gram TF-IDF)
in Rasa's graph. Trained with the model; stored as arrays and a vocabulary in the model's
storage (no pickles)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.topic_classifier import DEFAULT_C, VECTOR_WEIGHT, TopicClassifier

log = logging.getLogger(__name__)
RANKING = "ranking_length"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class E5TopicClassifier(IntentClassifier, GraphComponent):
    """Intent and ranking from the e5 vector and the text."""

    @classmethod
    def required_components(cls) -> list[type]:
        """The e5 featurizer must run before."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component needs."""
        return ["sklearn", "scipy", "numpy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """C (inverse regularisation, chosen on a split of the training data), the e5
        block's scale beside the n-grams, iterations, and how many intents the ranking
        lists."""
        return {"C": DEFAULT_C, "vector_weight": VECTOR_WEIGHT, "max_iter": 3000, RANKING: 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: TopicClassifier | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.classifier = classifier

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5TopicClassifier:
        """A new, untrained classifier."""
        return cls(config, model_storage, resource)

    @staticmethod
    def _vector(message: Message) -> np.ndarray:
        dense = message.get_dense_features(TEXT)[1]
        if dense is None:
            raise ValueError("E5TopicClassifier needs E5SentenceFeaturizer before it")
        return np.asarray(dense.features, dtype=np.float32).reshape(-1)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on every example with an intent and a text."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        vectors = np.vstack([self._vector(e) for e in examples])
        self.classifier = TopicClassifier.fit(
            [e.get(TEXT) for e in examples],
            vectors,
            [e.get(INTENT) for e in examples],
            c=float(self.config["C"]),
            max_iter=int(self.config["max_iter"]),
            vector_weight=float(self.config["vector_weight"]),
        )
        with self._storage.write_to(self._resource) as directory:
            self.classifier.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> E5TopicClassifier:
        """The trained classifier from the model's storage."""
        try:
            with model_storage.read_from(resource) as directory:
                classifier = TopicClassifier.load(directory)
        except (ValueError, FileNotFoundError):
            log.warning("E5TopicClassifier: no trained classifier in the model")
            classifier = None
        return cls(config, model_storage, resource, classifier)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent and the ranking of every message with a text."""
        if self.classifier is None:
            return messages
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not with_text:
            return messages
        vectors = np.vstack([self._vector(m) for m in with_text])
        probabilities = self.classifier.probabilities([m.get(TEXT) for m in with_text], vectors)
        for message, row in zip(with_text, probabilities, strict=True):
            order = np.argsort(-row)
            ranking = [
                {"name": self.classifier.classes[i], "confidence": float(row[i])}
                for i in order[: int(self.config[RANKING])]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
