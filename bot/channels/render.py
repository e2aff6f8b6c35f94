"""Rendering outbound messages for channels that have no buttons."""

from __future__ import annotations

from collections.abc import Sequence

from flows.types import Outbound


def as_plain_text(outbound: Outbound, first: int = 1) -> str:
    """The text with its buttons as numbered choices ("1. Talk to a person"), numbered from
    ``first``."""
    if not outbound.buttons:
        return outbound.text
    choices = "\n".join(f"{n}. {button.label}" for n, button in enumerate(outbound.buttons, first))
    return f"{outbound.text}\n\n{choices}"


def plain_texts(outbounds: Sequence[Outbound]) -> list[str]:
    """Messages sent together, their choices numbered on from one message to the next, so
    no two choices offered together share a number (a bare number picks one of them)."""
    texts, first = [], 1
    for outbound in outbounds:
        texts.append(as_plain_text(outbound, first))
        first += len(outbound.buttons)
    return texts
