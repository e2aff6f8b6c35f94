"""Figures for the understanding step on tests/data/heldout and tests/data/fresh, online
(a Rasa model) and offline (the matcher alone): topic accuracy and the other published
scores, p50/p99 latency of Understander.understand (sequential, cache cold), the model's
size and the Rasa server's resident memory. Compares models and matchers, e.g. before and
after a pipeline change:

  .venv/bin/python scripts/nlu_figures.py                      # current model, e5 matcher
  .venv/bin/python scripts/nlu_figures.py --model var/models/nlu-<old>.tar.gz --matcher ngram
  .venv/bin/python scripts/nlu_figures.py --offline-only

The Rasa server is started on a free port of 127.0.0.1 (never reusing another's) and stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from bot.app import build_understander
from bot.settings import PROJECT_ROOT, load_settings
from nlu import evaluation
from nlu.embeddings import E5Embedder
from nlu.fallback import FallbackMatcher
from nlu.local_model import LocalModel
from nlu.rasa_client import RasaClient
from nlu.rasa_runtime import RasaPaths, RasaServer, model_path
from nlu.service import Understander
from nlu.training_data import data_files, read_examples


def latency(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {1000 * statistics.median(ordered):6.1f} ms  p99 {1000 * p99:6.1f} ms"


async def run(understander: Understander, label: str, directory: Path) -> None:
    cases = evaluation.load_cases(directory)
    await understander.understand("hei, hvor er helsestasjonen?", None)  # warm
    outcomes, samples = [], []
    asked = offered = 0
    for case in cases:
        start = time.perf_counter()
        understood = await understander.understand(case.text, None)
        samples.append(time.perf_counter() - start)
        if understood.alternatives:
            asked += 1
            offered += case.topic in understood.alternatives
        outcomes.append(
            evaluation.Outcome(
                case, understood.topic, understood.crisis is not None, understood.language
            )
        )
    print(f"\n{label}: {len(cases)} messages from {directory.name}, understanding step", end=" ")
    print(latency(samples))
    print(evaluation.report(outcomes))
    print(
        f"asked to choose (counted as topic misses above): {asked} of {len(cases)}; "
        f"the right one among the choices: {offered}"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main(model: Path, matcher_kind: str, offline_only: bool, cases: list[Path]) -> None:
    settings = load_settings()
    start = time.perf_counter()
    embedder = E5Embedder() if matcher_kind == "e5" else None
    matcher = FallbackMatcher(read_examples(data_files()), embedder=embedder)
    print(f"matcher: {matcher_kind}, built in {time.perf_counter() - start:.2f} s")
    offline = build_understander(settings, None)
    offline.fallback = matcher
    offline.local = None
    for directory in cases:
        await run(offline, f"offline ({matcher_kind} matcher only)", directory)
    if embedder is not None:  # Rasa down: the model's classifier, read by the application
        offline.local = LocalModel(lambda: model, embedder)
        for directory in cases:
            await run(offline, f"offline ({model.name} read by the application)", directory)
    if offline_only:
        return
    server = RasaServer(RasaPaths.from_env(), model, "127.0.0.1", free_port())
    start = time.perf_counter()
    await server.start(timeout_s=300)
    print(
        f"\nRasa server with {model.name} ({model.stat().st_size / 1e6:.1f} MB) healthy in "
        f"{time.perf_counter() - start:.1f} s"
    )
    rasa = RasaClient(server.url, settings.nlu.timeout_ms / 1000)
    try:
        online = build_understander(settings, rasa)
        online.fallback = matcher
        for directory in cases:
            await run(online, f"online (Rasa, {matcher_kind} matcher as second opinion)", directory)
        assert server.process is not None
        print(f"Rasa server RSS after the run: {rss_mb(server.process.pid):.0f} MB")
    finally:
        await rasa.aclose()
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="default: the current model")
    parser.add_argument("--matcher", choices=("e5", "ngram"), default="e5")
    parser.add_argument("--offline-only", action="store_true")
    parser.add_argument(
        "--cases",
        type=Path,
        action="append",
        help="a directory of <lang>.jsonl messages to score (repeatable); "
        "default: tests/data/heldout and tests/data/fresh",
    )
    args = parser.parse_args()
    chosen = (args.model or model_path(RasaPaths.from_env())).resolve()
    data = PROJECT_ROOT / "tests" / "data"
    directories = args.cases or [d for d in (data / "heldout", data / "fresh") if d.is_dir()]
    asyncio.run(main(chosen, args.matcher, args.offline_only, directories))
