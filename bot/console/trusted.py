"""Who the young person brought into their conversation (*mitt nettverk*), on the case page:
each first name, since when, on which kind of channel, and whether (and by whom) they were
taken out. Only a role with ``SEE_PARTICIPANTS`` sees the names; in the conversation a
message from one of them is marked "<name> (invited)" (for others: "invited")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.console.present import Presenter
from bot.staff import Permission, may
from bot.store.participants import BY_SELF, Participant
from bot.store.queue_repo import CaseMessage
from flows.types import N_

Translate = Callable[..., str]


def panel(
    role: str, participants: tuple[Participant, ...], present: Presenter, t: Translate
) -> dict[str, Any]:
    """The case page's "In the conversation" list (None: nobody was invited, or the role
    may not see them)."""
    if not participants or not may(role, Permission.SEE_PARTICIPANTS):
        return {"trusted": None}
    rows = []
    for p in participants:
        ended = None
        if p.removed_at is not None:
            key = (
                N_("console.trusted.left")
                if p.removed_by == BY_SELF
                else N_("console.trusted.removed")
            )
            ended = {"text": t(key), "when": present.when(p.removed_at)}
        rows.append(
            {
                "name": p.name,
                "since": present.when(p.joined_at),
                "channel": present.channel(p.channel),
                "ended": ended,
            }
        )
    return {"trusted": {"people": rows}}


def author(role: str, message: CaseMessage, t: Translate) -> str | None:
    """How the conversation names a message an invited person wrote (None: not theirs)."""
    if message.author is None:
        return None
    if may(role, Permission.SEE_PARTICIPANTS):
        return t(N_("console.trusted.author"), name=message.author)
    return t(N_("console.trusted.author_unnamed"))
