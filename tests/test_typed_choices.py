"""A citizen who types instead of pressing is understood: "to", "mitt barn" or "dwa" pick the
second choice, "ja" confirms, in the citizen's language, on every channel."""

from __future__ import annotations

import pytest

from bot.app import App
from tests.journey import Citizen


@pytest.mark.parametrize("answer", ["2", "to", "mitt barn", "Det gjelder mitt barn"])
async def test_a_parent_who_types_the_answer_goes_on_with_the_intake(
    offline_app: App, answer: str
) -> None:
    parent = Citizen(offline_app, "+4790000001", channel="jsonl")
    await parent.says("jeg vil snakke med en person")
    assert "hvem gjelder det" in parent.last().lower()
    await parent.says(answer)
    assert "hvem gjelder det" not in parent.last().lower()  # not asked again
    assert "alder" in parent.last().lower() or "gammel" in parent.last().lower()


async def test_a_polish_parent_answers_in_polish_words(offline_app: App) -> None:
    parent = Citizen(offline_app, "pl-parent", channel="jsonl")
    await parent.says("Chcę porozmawiać z pracownikiem")
    first = parent.last()
    await parent.says("dwa")
    assert parent.last() != first


async def test_yes_typed_confirms_deleting_and_no_keeps(offline_app: App) -> None:
    keeper = Citizen(offline_app, "keeper", channel="jsonl")
    await keeper.says("hvor er helsestasjonen?")
    await keeper.says("/slett")
    await keeper.says("nei")
    assert await keeper.app.store.run(
        keeper.app.store.history, "jsonl", keeper.app.router.address("jsonl", "keeper"), 10
    )
    leaver = Citizen(offline_app, "leaver", channel="jsonl")
    await leaver.says("hvor er helsestasjonen?")
    await leaver.says("/slett")
    await leaver.says("ja")
    address = leaver.app.router.address("jsonl", "leaver")
    assert await leaver.app.store.run(leaver.app.store.history, "jsonl", address, 10) == []
