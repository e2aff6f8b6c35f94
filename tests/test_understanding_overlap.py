"""The understanding step asks Rasa first and does its own checks while the answer is on its
way: the crisis check never waits for it, a reading asked for early is taken (not asked
again), a language switch leaves no request behind, and a dead server still gets the
offline answer."""

from __future__ import annotations

import pytest

from bot.app import build_understander
from bot.settings import Settings
from nlu.rasa_client import NluUnavailable, RasaReading
from nlu.service import Understander
from tests.test_router_overlap import QUESTION, GatedRasa


@pytest.fixture
def rasa() -> GatedRasa:
    return GatedRasa(open_gate=False)


@pytest.fixture
def understander(settings: Settings, rasa: GatedRasa) -> Understander:
    understander = build_understander(settings, None)
    understander.rasa = rasa  # type: ignore[assignment]
    return understander


async def test_the_local_checks_run_while_rasa_reads(
    understander: Understander, rasa: GatedRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = understander.crisis.check
    asked_first: list[bool] = []

    def crisis_check(text: str) -> object:
        asked_first.append(bool(rasa.asked))
        rasa.gate.set()  # Rasa may answer once the check has run
        return check(text)

    monkeypatch.setattr(understander.crisis, "check", crisis_check)
    understanding = await understander.understand(QUESTION, None)
    assert asked_first == [True]
    assert understanding.source == "rasa" and understanding.intent == "svc_helsestasjon"


async def test_a_crisis_is_flagged_before_rasa_has_answered(
    understander: Understander, rasa: GatedRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = understander.crisis.check
    flagged: list[bool] = []

    def crisis_check(text: str) -> object:
        signal = check(text)
        flagged.append(signal is not None and not rasa.gate.is_set())
        rasa.gate.set()
        return signal

    monkeypatch.setattr(understander.crisis, "check", crisis_check)
    understanding = await understander.understand("jeg vil ikke leve mer", None)
    assert flagged == [True] and understanding.crisis is not None


async def test_a_reading_asked_for_early_is_taken_not_asked_again(
    understander: Understander, rasa: GatedRasa
) -> None:
    understander.prefetch(QUESTION)
    understander.prefetch(QUESTION)  # a retry of the same text shares it
    rasa.gate.set()
    understanding = await understander.understand(QUESTION, None)
    assert understanding.intent == "svc_helsestasjon"
    assert rasa.asked == [QUESTION]
    assert understander.in_flight() == 0


async def test_a_language_switch_leaves_no_request_behind(
    understander: Understander, rasa: GatedRasa
) -> None:
    understander.prefetch("english please")
    understanding = await understander.understand("english please", "nb")
    assert understanding.intent == "language_switch"
    assert understander.in_flight() == 1  # on its way: it fills the cache, nobody waits
    rasa.gate.set()
    await understander.settled()
    assert understander.in_flight() == 0
    await understander.understand("english please", "nb")
    assert rasa.asked == ["english please"]  # remembered, not asked again


async def test_a_worry_is_not_what_rasa_reads_even_when_asked_early(
    understander: Understander, rasa: GatedRasa
) -> None:
    text = "kan jeg snakke med noen uten at foreldrene mine får vite det"
    understander.prefetch(text)
    rasa.gate.set()
    understanding = await understander.understand(text, None)
    assert understanding.worry is not None
    assert len(rasa.asked) == 1 and "foreldrene" not in rasa.asked[0]


@pytest.mark.parametrize(
    "failure",
    [NluUnavailable("ConnectError"), RuntimeError("a bug in the client, not a dead server")],
    ids=["dead server", "client fault"],
)
async def test_a_failing_nlu_reading_while_the_message_is_recorded_gets_the_offline_answer(
    understander: Understander, failure: Exception
) -> None:
    class Failing:
        async def read(self, text: str, sent: object = None) -> RasaReading:
            raise failure

    understander.rasa = Failing()  # type: ignore[assignment]
    understander.prefetch(QUESTION)
    await understander.settled()  # failed with nobody waiting: no lost exception
    assert not understander.rasa_available  # left alone for a while, either way
    understanding = await understander.understand(QUESTION, None)
    assert understanding.source == "fallback" and understanding.intent == "svc_helsestasjon"


def test_asking_rasa_does_not_search_the_import_path_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpcore imports sniffio (optional) on every request: where it is missing, the client
    remembers that once instead of a search through every import path entry each time."""
    import sys
    from importlib.machinery import PathFinder

    from httpcore import _synchronization

    from nlu.rasa_client import RasaClient

    installed = sys.modules.get("sniffio") is not None
    monkeypatch.delitem(sys.modules, "sniffio", raising=False)
    RasaClient("http://rasa.test", 1.0)
    searched: list[str] = []
    real = PathFinder.find_spec

    def finding(name: str, path: object = None, target: object = None) -> object:
        searched.append(name)
        return real(name, path, target)  # type: ignore[arg-type]

    monkeypatch.setattr(PathFinder, "find_spec", finding)
    for _ in range(3):  # as for each request
        assert _synchronization.current_async_library() == "asyncio"
    assert searched == [] or installed
