"""Commands every channel understands, in every language: help, language, anonymous,
see my data, delete my data, withdraw consent, stop.

Slash commands are matched by name (``command.slash.*`` in the catalogs); plain requests
("delete my data") must be the whole message, so that a sentence merely containing "stop"
is not a command.
The plain phrases live in the catalogs (``command.phrases.*``), one list per language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from flows.types import N_, FlowContext, Translate


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


@dataclass(frozen=True)
class CommandWords:
    """Every supported language's command words, read from the catalogs once: the slash
    names (and the English names and command ids, which always work) and the plain phrases
    (simplified: a message is a command when it is one of them, whole). The router reads
    them with each content revision; ``detect`` without them reads the catalogs itself
    (124 lookups a message)."""

    slashes: Mapping[str, Command]
    phrases: Mapping[str, Command]

    @classmethod
    def read(cls, t: Translate, languages: Sequence[str]) -> CommandWords:
        """The words in ``languages`` as the translator ``t`` gives them."""
        slashes = {command.value: command for command in Command}
        for command, key in SLASH_KEYS.items():
            for language in ("en", *languages):
                text = t(key, language)
                if text != key:
                    names = (n.strip().casefold() for n in text.split("|") if n.strip())
                    slashes.update((name, command) for name in names)
        phrases: dict[str, Command] = {}
        for command, key in PHRASE_KEYS.items():  # the first command naming a phrase has it
            for language in languages:
                text = t(key, language)
                if text != key:
                    for phrase in text.split("|"):
                        if phrase.strip():
                            phrases.setdefault(_simplify(phrase), command)
        return cls(slashes, phrases)


def command_words(ctx: FlowContext) -> CommandWords:
    """The context's command words (read from its translator when the router gave none)."""
    if ctx.commands is not None:
        return ctx.commands
    return CommandWords.read(ctx.t, ctx.settings.languages.supported)


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
        command = command_words(ctx).slashes.get(match.group(1).casefold())
        return (command, match.group(2).strip()) if command else None
    if len(stripped) > 60:
        return None
    simple = _simplify(stripped)
    if not simple:
        return None
    return (found, "") if (found := command_words(ctx).phrases.get(simple)) else None
