"""The understanding step with Rasa faked at its one seam, the HTTP transport: what the
application makes of the model's answers (thresholds, second opinion, cache, crisis intent)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.app import build_understander
from bot.settings import Settings
from nlu.crisis import CrisisDetector
from nlu.rasa_client import RasaClient
from nlu.service import MAX_NLU_CHARS, Understander


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


FALSE_ALARMS = {
    # what the shipped model (nlu-357565e2d7327044) answers: crisis, with this confidence
    "How cold will it be tonight?": 0.9995,
    "Set the alarm for noon on Mondays only": 0.841,
    "Minn meg på å ringa mamma i kveld": 0.9138,
    "Hun våkner hver time.": 0.9693,  # in an intake: how the baby sleeps
    "Vi er tre barn og mamma.": 0.6923,  # in an intake: who lives at home
}


@pytest.mark.parametrize(("text", "confidence"), FALSE_ALARMS.items())
async def test_the_models_crisis_intent_alone_raises_no_alarm(
    settings: Settings, calls: list[str], text: str, confidence: float
) -> None:
    """The model is sure of a crisis the offline matcher does not see: no flag, no urgent case
    (issue 9, item 7)."""
    u = understander(settings, {text: ("crisis", confidence)}, calls)
    understood = await u.understand(text, "nb")
    assert understood.crisis is None and understood.intent != "crisis"
    assert calls == [text]


def without_lexicon(u: Understander) -> Understander:
    """The same understanding with a lexicon that knows one idiom and no crisis, so what the
    model's crisis intent does is seen on its own."""
    u.crisis = CrisisDetector(
        {
            "version": "t",
            "categories": {"acute_danger": {"topic": "barnevern"}},
            "languages": {"nb": {"not_crisis": [r"\bdøde av latter\b"]}},
        }
    )
    return u


async def test_the_models_crisis_intent_counts_when_the_offline_matcher_agrees(
    settings: Settings, calls: list[str]
) -> None:
    text = "jeg vil ikke leve mer"  # a crisis example of the training data: the matcher agrees
    u = without_lexicon(understander(settings, {text: ("crisis", 0.9)}, calls))
    understood = await u.understand(text, None)
    assert understood.crisis is not None and understood.crisis.lexicon_version == "model"
    assert understood.intent == "crisis"


async def test_an_uncorroborated_crisis_answer_is_a_doubtful_answer(
    settings: Settings, calls: list[str]
) -> None:
    """The price, measured on messages the lexicon misses: the model alone no longer flags
    them (they belong in the reviewed lexicon). As for any doubtful answer, the offline
    matcher's second opinion decides (with embeddings, a mental-health service; without,
    not understood)."""
    text = "jeg er så sliten av alt, vil bare sove for alltid"
    u = without_lexicon(understander(settings, {text: ("crisis", 0.997)}, calls))
    understood = await u.understand(text, None)
    assert understood.crisis is None
    assert understood.intent in ("out_of_scope", "svc_psykisk_helse_rus")


async def test_the_models_crisis_intent_never_overrules_an_idiom(
    settings: Settings, calls: list[str]
) -> None:
    u = without_lexicon(understander(settings, {"jeg døde av latter": ("crisis", 0.91)}, calls))
    assert (await u.understand("jeg døde av latter", None)).crisis is None


async def test_with_rasa_down_the_matchers_own_crisis_answer_still_counts(
    settings: Settings,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    rasa = RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(refuse))
    u = without_lexicon(build_understander(settings, rasa))
    understood = await u.understand("jeg vil ikke leve mer", None)
    assert understood.source == "fallback" and understood.crisis is not None


async def test_a_message_of_any_length_is_checked_whole_but_classified_by_its_start(
    settings: Settings, calls: list[str]
) -> None:
    """The router passes the whole text: the crisis check reads every character, Rasa, the
    language guesser and the matcher only the first MAX_NLU_CHARS."""
    start = "Hei, jeg lurer på hvordan vi søker plass i barnehagen til høsten. "
    text = (start * 2000)[: 100_000 - 40] + " Jeg vil ta livet mitt i kveld."
    u = understander(settings, {}, calls)
    understood = await u.understand(text, None)
    assert understood.crisis is not None and understood.crisis.category == "self_harm"
    assert [len(sent) for sent in calls] == [MAX_NLU_CHARS]


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


async def test_when_the_model_is_unsure_its_runners_up_are_offered_as_likely_meanings(
    settings: Settings,
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        ranking = [
            {"name": "svc_skolehelsetjeneste", "confidence": 0.36},
            {"name": "svc_helsestasjon", "confidence": 0.33},
            {"name": "greet", "confidence": 0.12},
            {"name": "svc_nav", "confidence": 0.05},
        ]
        return httpx.Response(200, json={"intent": ranking[0], "intent_ranking": ranking})

    rasa = RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(respond))
    u = build_understander(settings, rasa)
    understood = await u.understand("xyzzy plugh frobnitz", None)
    assert understood.intent == "out_of_scope" and understood.topic is None
    assert understood.alternatives == ("skolehelsetjeneste", "helsestasjon")


async def test_a_confident_answer_or_a_clear_out_of_scope_offers_no_choice(
    settings: Settings, calls: list[str]
) -> None:
    u = understander(settings, {"hvor er ppt?": ("svc_ppt", 0.97)}, calls)
    assert (await u.understand("hvor er ppt?", None)).alternatives == ()
    assert (await u.understand("spill musikk på stua", None)).alternatives == ()


async def test_when_the_model_and_the_matcher_name_different_services_the_citizen_chooses(
    settings: Settings, calls: list[str]
) -> None:
    # the model is not sure, and the offline matcher, asked at the same time, reads the
    # message as the health clinic: ask, with the model's first
    text = "vi har en baby på 6 uker, når er neste vaksine på helsestasjonen?"
    u = understander(settings, {text: ("svc_nav", 0.46)}, calls)
    understood = await u.understand(text, None)
    assert understood.intent == "out_of_scope" and understood.topic is None
    assert understood.alternatives[:2] == ("nav", "helsestasjon")


async def test_a_model_that_is_sure_is_not_overruled_by_the_matcher(
    settings: Settings, calls: list[str]
) -> None:
    text = "vi har en baby på 6 uker, når er neste vaksine på helsestasjonen?"
    u = understander(settings, {text: ("svc_nav", 0.55)}, calls)
    understood = await u.understand(text, None)
    assert understood.topic == "nav" and understood.alternatives == ()


async def test_when_the_model_and_the_matcher_agree_the_answer_is_taken(
    settings: Settings, calls: list[str]
) -> None:
    text = "vi har en baby på 6 uker, når er neste vaksine på helsestasjonen?"
    u = understander(settings, {text: ("svc_helsestasjon", 0.99)}, calls)
    understood = await u.understand(text, None)
    assert understood.topic == "helsestasjon" and understood.alternatives == ()
    again = await u.understand(text, None)  # both answers are cached: Rasa is not asked again
    assert again.topic == "helsestasjon" and calls == [text]


async def test_a_model_answer_the_matcher_calls_out_of_scope_is_not_disputed(
    settings: Settings, calls: list[str]
) -> None:
    text = "xyzzy plugh frobnitz"
    u = understander(settings, {text: ("svc_ppt", 0.99)}, calls)
    understood = await u.understand(text, None)
    assert understood.topic == "ppt" and understood.alternatives == ()


@pytest.mark.parametrize("label", ["Meg selv", "meg selv", "Myself", "نفسي", "Sam/sama"])
async def test_with_rasa_down_the_intakes_own_button_is_no_crisis(
    settings: Settings, label: str
) -> None:
    # the matcher put "Meg selv" next to "skade meg selv": an urgent case mid-intake
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    rasa = RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(refuse))
    u = build_understander(settings, rasa)
    assert (await u.understand(label, None)).crisis is None
