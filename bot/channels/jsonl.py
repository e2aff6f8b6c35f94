"""The JSON-lines channel for machines: one object in, exactly one object out, per line.

In:  {"user": "<id>", "text": "<message>"}
Out: {"user": ..., "replies": [...], "language": ..., "topic": ..., "crisis": ..., "handover": ...}
Messages that arrived for the user in between (a los reply, a read receipt, the feedback
question) are written first, as {"user": ..., "replies": [...], "from": "los"|"bot"}.
Nothing else is written to stdout. This contract is used by evaluations: keep it stable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from bot.channels.render import as_plain_text, plain_texts
from bot.router import Handled, Router
from bot.text_input import clean_field, load_json
from flows.types import Inbound, Outbound

CHANNEL = "jsonl"


def parse_line(line: str) -> tuple[str, str] | str:
    """(user, text) from one input line, or an error code. The user id is cleaned of
    control characters and lone surrogates (it is written back out)."""
    try:
        data: Any = load_json(line)
    except ValueError:
        return "invalid_json"
    if not isinstance(data, dict):
        return "not_an_object"
    user, text = clean_field(data.get("user")), data.get("text", "")
    if user is None:
        return "missing_user"
    if not isinstance(text, str):
        return "text_not_a_string"
    return user, text


def result_line(user: str | None, handled: Handled) -> dict[str, object]:
    """The output object for one handled message."""
    return {
        "user": user,
        "replies": plain_texts(handled.replies),
        "language": handled.language,
        "topic": handled.topic,
        "crisis": handled.crisis,
        "handover": handled.handover,
    }


def pending_groups(messages: Sequence[Outbound]) -> list[tuple[str, list[str]]]:
    """Consecutive pending messages grouped by sender ("los" or "bot")."""
    groups: list[tuple[str, list[str]]] = []
    for message in messages:
        if groups and groups[-1][0] == message.sender:
            groups[-1][1].append(as_plain_text(message))
        else:
            groups.append((message.sender, [as_plain_text(message)]))
    return groups


async def serve(
    router: Router, stdin: TextIO, write: Callable[[str], None], error_reply: Callable[[str], str]
) -> int:
    """Read lines until EOF; answer each with exactly one JSON line. Returns lines handled."""
    count = 0
    for raw in stdin:
        line = raw.strip()
        if not line:
            continue
        parsed = parse_line(line)
        if isinstance(parsed, str):
            output: dict[str, object] = {
                "user": None,
                "replies": [error_reply(parsed)],
                "language": None,
                "topic": None,
                "crisis": False,
                "handover": False,
                "error": parsed,
            }
        else:
            user, text = parsed
            for sender, texts in pending_groups(await router.take_pending(CHANNEL, user)):
                write(
                    json.dumps({"user": user, "replies": texts, "from": sender}, ensure_ascii=False)
                    + "\n"
                )
            handled = await router.handle(Inbound(CHANNEL, user, text))
            output = result_line(user, handled)
        write(json.dumps(output, ensure_ascii=False) + "\n")
        count += 1
    return count
