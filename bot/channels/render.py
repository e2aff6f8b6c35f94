"""Rendering outbound messages: choices as numbered text for channels without buttons, long
texts cut into parts for channels with a length limit."""

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


def plain_texts(
    outbounds: Sequence[Outbound], *, short: bool = False, first: int = 1
) -> list[str]:
    """Messages sent together, their choices numbered on from one message to the next (from
    ``first``: later than 1 when earlier replies to the same message were sent before), so
    no two choices offered together share a number (a bare number picks one of them): the
    same order in which the router records the choices offered."""
    texts: list[str] = []
    for outbound in outbounds:
        texts.append(as_plain_text(outbound, first, short=short))
        first += len(outbound.buttons)
    return texts


def split_text(text: str, limit: int = 4096) -> list[str]:
    """Parts of at most ``limit`` characters (4096: Telegram's and WhatsApp's limit), cut at a
    paragraph, line or word boundary."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts
