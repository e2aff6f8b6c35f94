"""Commands every channel understands, in every language: help, language, anonymous,
see my data, delete my data, withdraw consent, stop.

Slash commands are matched by name (``command.slash.*`` in the catalogs); plain requests
("delete my data") must be the whole message, so that a sentence merely containing "stop"
is not a command.
The plain phrases live in the catalogs (``command.phrases.*``), one list per language.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from enum import StrEnum

from flows.types import N_, FlowContext


class Command(StrEnum):
    """What the citizen asked the bot itself to do."""

    START = "start"
    HELP = "help"
    LANGUAGE = "language"
    ANONYMOUS = "anonymous"
    MY_DATA = "my_data"
    DELETE = "delete"
    WITHDRAW = "withdraw"
    STOP = "stop"
    PERSON = "person"


SLASH_KEYS = {
    Command.START: N_("command.slash.start"),
    Command.HELP: N_("command.slash.help"),
    Command.LANGUAGE: N_("command.slash.language"),
    Command.ANONYMOUS: N_("command.slash.anonymous"),
    Command.MY_DATA: N_("command.slash.my_data"),
    Command.DELETE: N_("command.slash.delete"),
    Command.WITHDRAW: N_("command.slash.withdraw"),
    Command.STOP: N_("command.slash.stop"),
    Command.PERSON: N_("command.slash.person"),
}
"""Slash command names per language, "|"-separated; the first is shown in Telegram's menu."""
PHRASE_KEYS = {
    Command.HELP: N_("command.phrases.help"),
    Command.LANGUAGE: N_("command.phrases.language"),
    Command.ANONYMOUS: N_("command.phrases.anonymous"),
    Command.MY_DATA: N_("command.phrases.my_data"),
    Command.DELETE: N_("command.phrases.delete"),
    Command.WITHDRAW: N_("command.phrases.withdraw"),
    Command.STOP: N_("command.phrases.stop"),
    Command.PERSON: N_("command.phrases.person"),
}
BUTTON_PREFIX = "cmd:"
_SLASH = re.compile(r"^/([\w]+)(?:@\w+)?\s*(.*)$", re.UNICODE)
_PUNCTUATION = re.compile(r"[^\w\s]+", re.UNICODE)


def _simplify(text: str) -> str:
    lowered = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCTUATION.sub(" ", lowered).split())


def slash_commands(ctx: FlowContext) -> dict[str, Command]:
    """Every slash name in every supported language, and its command (the English names and
    the command ids always work)."""
    names = {command.value: command for command in Command}
    for command, key in SLASH_KEYS.items():
        for language in ("en", *ctx.settings.languages.supported):
            text = ctx.t(key, language)
            if text != key:
                names.update((n.strip().casefold(), command) for n in text.split("|") if n.strip())
    return names


def detect(text: str, button: str | None, ctx: FlowContext) -> tuple[Command, str] | None:
    """The command in this message and its argument (e.g. "/språk en"), or None."""
    if button is not None and button.startswith(BUTTON_PREFIX):
        try:
            return Command(button[len(BUTTON_PREFIX) :]), ""
        except ValueError:
            return None
    stripped = text.strip()
    match = _SLASH.match(stripped)
    if match:
        command = slash_commands(ctx).get(match.group(1).casefold())
        return (command, match.group(2).strip()) if command else None
    if len(stripped) > 60:
        return None
    simple = _simplify(stripped)
    if not simple:
        return None
    for command, key in PHRASE_KEYS.items():
        for language in ctx.settings.languages.supported:
            phrases = ctx.t(key, language)
            if phrases != key and simple in _phrase_set(phrases):
                return command, ""
    return None


@functools.lru_cache(maxsize=1024)
def _phrase_set(phrases: str) -> frozenset[str]:
    """A catalog entry's "|"-separated phrases, simplified (a pure function of the text,
    so remembered: every message is checked against all of them, twice)."""
    return frozenset(_simplify(p) for p in phrases.split("|") if p.strip())
