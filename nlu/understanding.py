"""The result of understanding one message: language, intent, topic and crisis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nlu.crisis import CrisisSignal

SERVICE_INTENT_PREFIX = "svc_"
LOS_TOPIC = "los"

Source = Literal["rasa", "local", "fallback", "none"]
"""Who read the intent: the Rasa server; its model's classifier read by the application while
the server is unavailable ("local", the same answers); the offline matcher; nobody."""
MODEL_SOURCES: frozenset[Source] = frozenset({"rasa", "local"})
"""The model's answers: their confidence is the model's."""


def topic_for_intent(intent: str) -> str | None:
    """Map an NLU intent to a topic: a service id, "los", or None."""
    if intent.startswith(SERVICE_INTENT_PREFIX):
        return intent[len(SERVICE_INTENT_PREFIX) :]
    if intent == "ask_human":
        return LOS_TOPIC
    return None


@dataclass(frozen=True)
class Understanding:
    """What the NLU made of a message; flows decide what to do with it."""

    language: str
    intent: str
    confidence: float
    crisis: CrisisSignal | None = None
    source: Source = "none"
    language_switch: str | None = None
    unsupported_language: str | None = None
    possible_danger: bool = False
    """No crisis was recognised, but the message reads somewhat like one (``nlu.danger_sense``):
    the answer carries the emergency numbers and a "someone is in danger now" button."""
    alternatives: tuple[str, ...] = ()
    """When unsure (``out_of_scope`` for want of confidence): the topics the message most
    likely meant, best first, to offer as a choice. Empty for a clear out-of-scope request."""
    worry: str | None = None
    """A worry the message carries besides its topic, from a lexicon that never depends on the
    Rasa server (``nlu.confidentiality``): "confidentiality" for "without my parents knowing"."""
    bring_someone: bool = False
    """The message asks to bring a friend or a trusted adult into the conversation, from a
    lexicon that never depends on the Rasa server (``nlu.trusted``)."""

    @property
    def from_model(self) -> bool:
        """Whether the trained model read the intent (on the Rasa server or here)."""
        return self.source in MODEL_SOURCES

    @property
    def topic(self) -> str | None:
        """The service id, "los" or None; a crisis names the service that fits it."""
        if self.crisis is not None:
            return self.crisis.topic
        return topic_for_intent(self.intent)
