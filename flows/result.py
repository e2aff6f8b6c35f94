"""What a flow step returns."""

from __future__ import annotations

from dataclasses import dataclass

from flows.effects import Effect
from flows.state import ConversationState
from flows.types import Outbound


@dataclass(frozen=True)
class StepResult:
    """New state, replies, effects, and what the answer was about (for channels and evals)."""

    state: ConversationState
    replies: tuple[Outbound, ...]
    effects: tuple[Effect, ...] = ()
    topic: str | None = None
    crisis: bool = False
    handover: bool = False
