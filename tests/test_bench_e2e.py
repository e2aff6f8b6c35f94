"""The end-to-end benchmark's client side (scripts/bench_e2e.py) against the application in
this process (offline matcher) and a fake parse server: two citizens for two seconds produce
latencies, button presses and the table, so the script cannot rot unnoticed."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import App
from bot.settings import PROJECT_ROOT
from bot.web import create_web_app


def bench() -> ModuleType:
    name = "bench_e2e"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, PROJECT_ROOT / "scripts" / "bench_e2e.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


async def fake_parse(request: Request) -> JSONResponse:
    text = (await request.json())["text"]
    return JSONResponse({"text": text, "intent": {"name": "out_of_scope", "confidence": 0.9}})


async def test_two_citizens_for_two_seconds_give_latencies_and_a_table(
    offline_app: App,
) -> None:
    b = bench()
    texts = b.load_texts()
    assert len(texts) > 100
    assert b.HELDOUT.name == "heldout"  # never the blind sets
    await offline_app.understander.warm_up()  # the language models and e5 load now, not timed
    parse = Starlette(routes=[Route("/model/parse", fake_parse, methods=["POST"])])
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_web_app(offline_app)),
            base_url="http://inngang",
        ) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=parse), base_url="http://rasa") as rasa,
    ):
        bare = await b.drive("bare", rasa, texts, 2, 1.0)
        e2e = await b.drive("e2e", app, texts, 2, 2.0, button_every=3)
    assert bare.latencies and bare.errors == 0
    assert len(e2e.latencies) >= 4 and e2e.errors == 0, e2e
    assert e2e.button_latencies, "a citizen pressed no button"
    assert all(0 < s < 30 for s in e2e.latencies)
    table = b.table([bare, e2e])
    rows = table.splitlines()[2:]
    assert [row.split()[:2] for row in rows] == [["bare", "2"], ["e2e", "2"]]
    ratio = float(rows[1].split()[7])
    assert ratio == round(e2e.rate / bare.rate, 2)


def test_every_string_of_a_run_is_unique_and_the_same_in_both_modes() -> None:
    b = bench()
    texts = b.load_texts()
    sent = [
        b.message_text(texts, n, c, i).text for n in (1, 8) for c in range(n) for i in range(500)
    ]
    assert len(set(sent)) == len(sent)
    assert b.message_text(texts, 8, 3, 7) == b.message_text(texts, 8, 3, 7)
    rounds = [
        b.message_text(texts, 1, 0, r * b.ROUND_STRIDE + i).text
        for r in range(4)
        for i in range(2000)
    ]
    assert len(set(rounds)) == len(rounds)  # a turn never repeats an earlier turn's string


def test_turns_of_one_mode_add_up_to_one_run() -> None:
    """bare and e2e take turns; each mode's turns make one row: every latency, the wall time
    and the CPU of all of them, the CPU per request over all requests."""
    b = bench()
    turns = [
        b.Run("e2e", 1, [0.020, 0.022], [0.010], 0, 1.0, app_cpu_s=0.03, rasa_cpu_s=0.02),
        b.Run("e2e", 1, [0.021], [], 1, 0.5, app_cpu_s=0.01, rasa_cpu_s=0.01),
    ]
    merged = b.Run("e2e", 1)
    for turn in turns:
        merged.add(turn)
    assert merged.latencies == [0.020, 0.022, 0.021] and merged.button_latencies == [0.010]
    assert (merged.errors, merged.wall, merged.rounds) == (1, 1.5, 2)
    assert merged.app_cpu_ms == pytest.approx(1000 * 0.04 / 4)
    assert merged.rasa_cpu_ms == pytest.approx(1000 * 0.03 / 4)
    unknown = b.Run("e2e", 1)
    for turn in (turns[0], b.Run("e2e", 1, [0.02], wall=1.0)):  # a process's CPU unreadable
        unknown.add(turn)
    assert unknown.app_cpu_ms is None


def test_percentiles_and_the_profile_summary() -> None:
    b = bench()
    assert b.percentile([0.3, 0.1, 0.2, 0.4], 0.5) == 0.2
    assert b.percentile(list(range(1, 101)), 0.99) == 99
    collapsed = [
        "thread (1): MainThread;run (asyncio/runners.py:190);EpollSelector.select (selectors.py:468) 50",
        "thread (1): MainThread;run (asyncio/runners.py:190);Router._step (bot/router.py:280) 10",
        "thread (2): store_0;_worker (concurrent/futures/thread.py:81) 30",
        "thread (2): store_0;_worker (concurrent/futures/thread.py:83);"
        "Store.save_step (bot/store/repo.py:350);DefaultDialect.do_commit (x/default.py:727) 20",
        "thread (3): store_1;_worker (concurrent/futures/thread.py:83);"
        "Store.save_step (bot/store/repo.py:351) 10",
    ]
    profile = b.Profile.read(iter(collapsed))
    assert profile.total == {"MainThread": 60, "store": 60}
    assert profile.working == {"MainThread": 10, "store": 30}
    assert profile.inclusive["store"]["Store.save_step (bot/store/repo.py)"] == 30
    report = profile.report(5)
    assert "75.0% (25.0%)  Store.save_step (bot/store/repo.py)" in report
    assert "_worker" not in report.split("top 5 functions")[1]


def test_the_application_starts_no_openblas_threads_unless_told() -> None:
    """OpenBLAS's spinning threads cost 25-35 ms of CPU per message (the benchmark's finding):
    the application's process keeps to its own threads; an explicit setting is kept."""
    import subprocess

    code = (
        "import bot.app, numpy as np, os; m = np.ones((7000, 384), dtype=np.float32); "
        "[m @ np.ones(384, dtype=np.float32) for _ in range(20)]; "
        "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    default = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert default.stdout.split() == ["1", "1"], default.stderr[-2000:]
    told = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**env, "OPENBLAS_NUM_THREADS": "2"},
        capture_output=True,
        text=True,
    )
    assert told.stdout.split()[0] == "2", told.stderr[-2000:]


def test_cpu_per_request_by_thread_group() -> None:
    b = bench()
    line = b.cpu_by_thread_group(
        {1: 1.0, 2: 0.5},
        {1: 1.5, 2: 0.6, 3: 0.2, 4: 0.1},
        {1: "MainThread", 2: "store", 4: "store"},
        10,
    )
    assert line == (
        "application CPU ms per request 90.0: MainThread 50.0, native (no Python) 20.0, store 20.0"
    )
    assert b.cpu_seconds(os.getpid()) > 0
    assert os.getpid() in b.thread_cpu_seconds(os.getpid())


def test_how_the_runs_messages_were_understood_comes_from_the_log(tmp_path: Path) -> None:
    b = bench()
    log = tmp_path / "app.log"
    log.write_text("INFO bot.router: handled conversation=1 intent=greet source=rasa topic=None\n")
    start = log.stat().st_size
    with log.open("a") as out:
        out.write(
            "INFO bot.router: handled conversation=2 intent=svc_ppt source=rasa topic=ppt\n"
            "WARNING nlu.service: NLU server unavailable (ReadTimeout): the offline ...\n"
            "INFO bot.router: handled conversation=3 intent=svc_nav source=fallback topic=nav\n"
            "INFO bot.router: handled conversation=2 intent=thanks source=rasa topic=None\n"
        )
    summary, end = b.answer_sources(log, start)
    assert summary == "understood by: fallback 1, rasa 2; Rasa left alone 1x"
    assert end == log.stat().st_size
    assert b.answer_sources(log, end) == ("understood by: nothing logged; Rasa left alone 0x", end)
