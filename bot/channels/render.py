"""Rendering outbound messages for channels that have no buttons."""

from __future__ import annotations

from collections.abc import Sequence

from flows.types import Outbound


def as_plain_text(outbound: Outbound, first: int = 1, *, short: bool = False) -> str:
    """The text (``short``: its short form, where it has one) with its buttons as numbered
    choices ("1. Talk to a person"), numbered from ``first``."""
    text = (outbound.short or outbound.text) if short else outbound.text
    if not outbound.buttons:
        return text
    choices = "\n".join(f"{n}. {button.label}" for n, button in enumerate(outbound.buttons, first))
    return f"{text}\n\n{choices}"


def plain_texts(outbounds: Sequence[Outbound], *, short: bool = False) -> list[str]:
    """Messages sent together, their choices numbered on from one message to the next, so
    no two choices offered together share a number (a bare number picks one of them): the
    same order in which the router records the choices offered."""
    texts, first = [], 1
    for outbound in outbounds:
        texts.append(as_plain_text(outbound, first, short=short))
        first += len(outbound.buttons)
    return texts
