"""The understanding step with Rasa faked at its one seam, the HTTP transport: what the
application makes of the model's answers (thresholds, second opinion, cache, crisis intent)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.app import build_understander
from bot.settings import Settings
from nlu.rasa_client import RasaClient
from nlu.service import Understander


def rasa_answering(answers: dict[str, tuple[str, float]], calls: list[str]) -> RasaClient:
    """A Rasa client whose server answers from a table (out_of_scope 0.99 for anything else)."""

    def respond(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        calls.append(text)
        name, confidence = answers.get(text, ("out_of_scope", 0.99))
        return httpx.Response(
            200, json={"text": text, "intent": {"name": name, "confidence": confidence}}
        )

    return RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(respond))


@pytest.fixture
def calls() -> list[str]:
    return []


def understander(
    settings: Settings, answers: dict[str, tuple[str, float]], calls: list[str]
) -> Understander:
    return build_understander(settings, rasa_answering(answers, calls))


async def test_a_confident_model_answer_is_taken(settings: Settings, calls: list[str]) -> None:
    u = understander(settings, {"hvor er ppt?": ("svc_ppt", 0.97)}, calls)
    understood = await u.understand("hvor er ppt?", None)
    assert understood.topic == "ppt" and understood.source == "rasa"


async def test_when_the_model_is_unsure_a_named_service_is_still_understood(
    settings: Settings, calls: list[str]
) -> None:
    text = "sønnen min har angst og får ikke sove, trenger henvisning til BUP?"
    u = understander(settings, {text: ("out_of_scope", 0.32)}, calls)
    understood = await u.understand(text, None)
    assert understood.topic == "bup" and understood.source == "fallback"


async def test_when_the_model_is_unsure_about_nonsense_it_stays_not_understood(
    settings: Settings, calls: list[str]
) -> None:
    u = understander(settings, {"qwrtzp xkcd vbnm": ("svc_nav", 0.31)}, calls)
    understood = await u.understand("qwrtzp xkcd vbnm", None)
    assert understood.topic is None and understood.intent == "out_of_scope"


async def test_the_same_text_is_asked_once(settings: Settings, calls: list[str]) -> None:
    u = understander(settings, {"nav": ("svc_nav", 0.9)}, calls)
    for text in ("nav", "NAV", " Nav "):
        assert (await u.understand(text, None)).topic == "nav"
    assert calls == ["nav"]


async def test_the_models_crisis_intent_adds_recall_but_never_overrules_an_idiom(
    settings: Settings, calls: list[str]
) -> None:
    u = understander(
        settings,
        {"alt er bare svart nå": ("crisis", 0.93), "jeg døde av latter": ("crisis", 0.91)},
        calls,
    )
    assert (await u.understand("alt er bare svart nå", None)).crisis is not None
    assert (await u.understand("jeg døde av latter", None)).crisis is None


async def test_a_long_message_the_model_calls_small_talk_gets_a_second_opinion(
    settings: Settings, calls: list[str]
) -> None:
    asking = "jeg drikker for mye og vil ha hjelp"
    u = understander(
        settings, {asking: ("thanks", 1.0), "tusen takk for hjelpa": ("thanks", 0.99)}, calls
    )
    assert (await u.understand(asking, None)).topic == "psykisk_helse_rus"
    thanked = await u.understand("tusen takk for hjelpa", None)
    assert thanked.intent == "thanks" and thanked.source == "rasa"
