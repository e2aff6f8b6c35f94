"""Commands every channel understands in every language ("slett dataene mine", "/språk en"):
a message that is one of a command's phrases, whole, is that command; a sentence that merely
contains one is not. The router reads the words once per content revision and every
message is checked against that index (it read the catalogs 124 times a message before);
a context without it reads the catalogs itself, with the same answers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app import App
from bot.i18n import Catalogs
from flows.commands import PHRASE_KEYS, SLASH_KEYS, Command, CommandWords, detect
from flows.state import ConversationState
from flows.types import FlowContext


def every_phrase(catalogs: Catalogs, languages: tuple[str, ...]) -> list[tuple[str, str, Command]]:
    return [
        (language, phrase.strip(), command)
        for command, key in PHRASE_KEYS.items()
        for language in languages
        for phrase in catalogs(key, language).split("|")
        if catalogs.has(key, language) and phrase.strip()
    ]


@pytest.fixture
def indexed(ctx: FlowContext) -> FlowContext:
    return replace(ctx, commands=CommandWords.read(ctx.t, ctx.settings.languages.supported))


def test_each_phrase_whole_is_its_command_with_the_index_and_without(
    ctx: FlowContext, indexed: FlowContext, catalogs: Catalogs
) -> None:
    phrases = every_phrase(catalogs, ctx.settings.languages.supported)
    assert len({language for language, _, _ in phrases}) >= 7
    for language, phrase, command in phrases:
        found = detect(phrase, None, indexed)
        assert found is not None, (language, phrase)
        assert detect(phrase, None, ctx) == found
        # the first command naming a phrase has it (a phrase two commands share is rare)
        assert found[0] is command or phrase.casefold() in {
            p.strip().casefold()
            for c, key in PHRASE_KEYS.items()
            if c is found[0]
            for p in catalogs(key, language).split("|")
        }
        assert detect(f"{phrase}!", None, indexed) == found  # punctuation does not count
        assert detect(f"kan du {phrase} for meg i morgen", None, indexed) != found


def test_slash_names_in_every_language_and_in_english_always(
    ctx: FlowContext, indexed: FlowContext, catalogs: Catalogs
) -> None:
    for command, key in SLASH_KEYS.items():
        for language in ("en", *ctx.settings.languages.supported):
            for name in catalogs(key, language).split("|"):
                if name.strip() and catalogs.has(key, language):
                    typed = f"/{name.strip()} en"
                    assert detect(typed, None, indexed) == (command, "en"), typed
                    assert detect(typed, None, ctx) == (command, "en")
    assert detect("/delete", None, indexed) == (Command.DELETE, "")
    assert detect("/nosuchthing", None, indexed) is None


def test_the_router_gives_each_step_the_words_of_its_content(offline_app: App) -> None:
    state = ConversationState.from_json("{}", "nb")
    ctx = offline_app.router.context(state, "web")
    assert ctx.commands is not None
    languages = ctx.settings.languages.supported
    assert ctx.commands == CommandWords.read(ctx.t, languages)
    assert detect("slett dataene mine", None, ctx) == (Command.DELETE, "")
