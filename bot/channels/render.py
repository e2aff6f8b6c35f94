"""Rendering outbound messages for channels that have no buttons."""

from __future__ import annotations

from flows.types import Outbound


def as_plain_text(outbound: Outbound) -> str:
    """The text with its buttons as numbered choices ("1. Talk to a person")."""
    if not outbound.buttons:
        return outbound.text
    choices = "\n".join(f"{n}. {button.label}" for n, button in enumerate(outbound.buttons, 1))
    return f"{outbound.text}\n\n{choices}"
